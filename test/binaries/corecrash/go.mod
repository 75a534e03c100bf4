module example.com/corecrash

go 1.19
