module example.com/piecrash

go 1.19
