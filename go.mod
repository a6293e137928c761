module github.com/palisade-sandbox/palisade

go 1.26.0

require (
	github.com/google/subcommands v1.2.0
	github.com/opencontainers/runtime-spec v1.3.0
	github.com/vishvananda/netlink v1.3.1
	golang.org/x/sys v0.50.0
	google.golang.org/protobuf v1.36.12
)

require github.com/vishvananda/netns v0.0.5 // indirect
