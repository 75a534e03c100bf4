module goclient

go 1.23

require github.com/gocrash/gocrash/client/go v0.0.0

replace github.com/gocrash/gocrash/client/go => ../../client/go
