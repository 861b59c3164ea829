// A Go HTTP client for the supervised mode's tests (standard library only).
//
//	gohttp URL [N]    N goroutines (default 1) each GET URL once, all at once;
//	                  prints the first body, then "ok N" or the errors, exit 1.
//	gohttp -lines URL one GET per line read from stdin, "ok BYTES" or
//	                  "err TEXT" per line: for killing the supervisor mid-run.
//	gohttp -udp HOST:PORT    one datagram on a connected UDP socket (connect, write),
//	                         and with GOHTTP_UDP_ECHO=1 reads the echo;
//	gohttp -udpto HOST:PORT  one datagram from an unconnected one (sendto);
//	                         each prints "sent" or "err TEXT" (exit 1).
//	gohttp -peer HOST:PORT   TCP dial; prints "peer ADDR" (RemoteAddr: getpeername).
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

func get(client *http.Client, url string) ([]byte, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	return io.ReadAll(resp.Body)
}

func main() {
	// No pooled connections: every GET is a fresh connect through the proxy.
	client := &http.Client{Timeout: 20 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	if len(os.Args) == 3 && os.Args[1] == "-udp" {
		c, err := net.Dial("udp", os.Args[2])
		if err == nil {
			_, err = c.Write([]byte("hello"))
		}
		if err != nil {
			fmt.Println("err", err)
			os.Exit(1)
		}
		fmt.Println("sent")
		if len(os.Getenv("GOHTTP_UDP_ECHO")) > 0 {
			// The echo, and the peer as getpeername tells it.
			buf := make([]byte, 100)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := c.Read(buf)
			if err != nil {
				fmt.Println("err", err)
				os.Exit(1)
			}
			fmt.Printf("echo %s from %s\n", buf[:n], c.RemoteAddr())
		}
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "-peer" {
		c, err := net.Dial("tcp", os.Args[2])
		if err != nil {
			fmt.Println("err", err)
			os.Exit(1)
		}
		fmt.Println("peer", c.RemoteAddr())
		c.Close()
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "-udpto" {
		c, err := net.ListenPacket("udp", ":0")
		if err == nil {
			var to *net.UDPAddr
			if to, err = net.ResolveUDPAddr("udp", os.Args[2]); err == nil {
				_, err = c.WriteTo([]byte("hello"), to)
			}
		}
		if err != nil {
			fmt.Println("err", err)
			os.Exit(1)
		}
		fmt.Println("sent")
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "-lines" {
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			body, err := get(client, os.Args[2])
			if err != nil {
				fmt.Println("err", err)
			} else {
				fmt.Println("ok", len(body))
			}
		}
		return
	}
	n := 1
	if len(os.Args) == 3 {
		n, _ = strconv.Atoi(os.Args[2])
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	var first []byte
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			body, err := get(client, os.Args[1])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else if first == nil {
				first = body
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(os.Stderr, "error:", e)
		}
		fmt.Printf("failed %d of %d\n", len(errs), n)
		os.Exit(1)
	}
	os.Stdout.Write(first)
	fmt.Printf("ok %d\n", n)
}
