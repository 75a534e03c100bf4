module crashgen

go 1.19
