module manygoroutines

go 1.19
