// Connect + echo 4 bytes + close cycles of a Go client, for
// go_connect_cycles.py (standard library only).
//
//	go_connect_cycles plain TARGET_HOST:PORT CYCLES MAX_SECONDS
//	go_connect_cycles socks5 PROXY_HOST:PORT TARGET_HOST:PORT CYCLES MAX_SECONDS
//	go_connect_cycles get [PROXY_HOST:PORT] TARGET_HOST:PORT PATH
//	                  one HTTP/1.0 GET of PATH (go_download.py), through the
//	                  proxy by its own SOCKS5 when PROXY is given; prints "bytes=N"
//
// socks5: the client speaks SOCKS5 itself (no auth, CONNECT to an IPv4
// target), one message per round trip, as a Go program with its own proxy
// dialer would. Prints "cycles=N seconds=S rate=R cpu_us_per_cycle=C" (the
// process's own CPU time, user + system).
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"
)

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "go_connect_cycles: %s: %v\n", what, err)
	os.Exit(1)
}

func socks5Dial(proxy string, target *net.TCPAddr) (net.Conn, error) {
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 10)
	if _, err = c.Write([]byte{5, 1, 0}); err == nil {
		_, err = io.ReadFull(c, buf[:2])
	}
	if err == nil && (buf[0] != 5 || buf[1] != 0) {
		err = fmt.Errorf("greeting refused: % x", buf[:2])
	}
	if err == nil {
		req := []byte{5, 1, 0, 1, 0, 0, 0, 0, 0, 0}
		copy(req[4:8], target.IP.To4())
		binary.BigEndian.PutUint16(req[8:], uint16(target.Port))
		if _, err = c.Write(req); err == nil {
			_, err = io.ReadFull(c, buf) // an IPv4 BND.ADDR: 10 bytes
		}
	}
	if err == nil && buf[1] != 0 {
		err = fmt.Errorf("CONNECT refused: REP %d", buf[1])
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// get: the response's bytes after the header, counted.
func get(args []string) {
	proxy := ""
	if len(args) == 3 {
		proxy, args = args[0], args[1:]
	}
	target, err := net.ResolveTCPAddr("tcp4", args[0])
	if err != nil {
		fail("target", err)
	}
	var c net.Conn
	if proxy != "" {
		c, err = socks5Dial(proxy, target)
	} else {
		c, err = net.DialTCP("tcp", nil, target)
	}
	if err != nil {
		fail("connect", err)
	}
	fmt.Fprintf(c, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", args[1], args[0])
	buf := make([]byte, 256<<10)
	var total int64
	header := true
	var head []byte
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if header {
				head = append(head, buf[:n]...)
				if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 {
					total += int64(len(head) - i - 4)
					header = false
				}
			} else {
				total += int64(n)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			fail("read", err)
		}
	}
	fmt.Printf("bytes=%d\n", total)
}

func main() {
	if len(os.Args) > 3 && os.Args[1] == "get" {
		get(os.Args[2:])
		return
	}
	args := os.Args[1:]
	if len(args) < 4 || (args[0] == "socks5" && len(args) < 5) {
		fmt.Fprintln(os.Stderr, "usage: go_connect_cycles plain|socks5 [PROXY] TARGET CYCLES MAX_SECONDS")
		os.Exit(2)
	}
	proxy := ""
	if args[0] == "socks5" {
		proxy = args[1]
		args = args[1:]
	}
	target, err := net.ResolveTCPAddr("tcp4", args[1])
	if err != nil {
		fail("target", err)
	}
	cycles, _ := strconv.Atoi(args[2])
	maxS, _ := strconv.ParseFloat(args[3], 64)
	ping := []byte("ping")
	back := make([]byte, 4)
	cpu0 := cpuSeconds()
	start := time.Now()
	n := 0
	for ; n < cycles && time.Since(start).Seconds() < maxS; n++ {
		var c net.Conn
		if proxy != "" {
			c, err = socks5Dial(proxy, target)
		} else {
			c, err = net.DialTCP("tcp", nil, target)
		}
		if err != nil {
			fail(fmt.Sprintf("cycle %d: connect", n), err)
		}
		if _, err = c.Write(ping); err == nil {
			_, err = io.ReadFull(c, back)
		}
		if err != nil {
			fail(fmt.Sprintf("cycle %d: echo", n), err)
		}
		c.Close()
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("cycles=%d seconds=%.3f rate=%.1f cpu_us_per_cycle=%.1f\n", n, secs,
		float64(n)/secs, (cpuSeconds()-cpu0)*1e6/float64(n))
}
