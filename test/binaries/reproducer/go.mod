module example.com/reproducer

go 1.19
