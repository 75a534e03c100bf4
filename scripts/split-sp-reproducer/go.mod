module gocrash.example/splitsp

go 1.19
