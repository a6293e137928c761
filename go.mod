module github.com/palisade-sandbox/palisade

go 1.26.0

require (
	github.com/google/subcommands v1.2.0
	golang.org/x/sys v0.50.0
)
