// Command netlink receives one netlink message with github.com/vishvananda/netlink 1.1.0, whose
// (*NetlinkSocket).Receive keeps a 64 KiB buffer on the stack: the function from the production
// crashes of golang/go#73259. scripts/build-binaries.sh builds it against Debian's
// golang-github-vishvananda-netlink-dev (1.1.0.125.gf243826).
package main

import (
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

func main() {
	s, err := nl.Subscribe(unix.NETLINK_ROUTE, unix.RTNLGRP_LINK)
	if err != nil {
		println(err.Error())
		return
	}
	defer s.Close()
	msgs, _, err := s.Receive()
	println(len(msgs), err == nil)
}
