module github.com/gocrash/gocrash/client/go

go 1.23
