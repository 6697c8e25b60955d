package fetchtest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Server serves one file on loopback and records what was asked and sent.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
	ranges   []string
	sent     int64
}

// Serve serves data at any path; honourRange false mimics a server that ignores Range
// and always answers 200 with the whole file; cutAt > 0 sends only that many bytes of
// the body, then drops the connection.
func Serve(t testing.TB, data []byte, honourRange bool, cutAt int) *Server {
	t.Helper()
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		s.ranges = append(s.ranges, r.Header.Get("Range"))
		s.mu.Unlock()
		cw := &countingWriter{ResponseWriter: w}
		switch {
		case cutAt > 0:
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			w.WriteHeader(http.StatusOK)
			cw.Write(data[:cutAt])
			if hj, ok := w.(http.Hijacker); ok {
				conn, _, _ := hj.Hijack()
				conn.Close()
			}
		case honourRange:
			http.ServeContent(cw, r, "file", time.Time{}, bytes.NewReader(data))
		default:
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			cw.Write(data)
		}
		s.mu.Lock()
		s.sent += cw.n
		s.mu.Unlock()
	}))
	t.Cleanup(s.Close)
	return s
}

// Requests is how many requests the server had.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Ranges are the Range headers of the requests, in order ("" for none).
func (s *Server) Ranges() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ranges...)
}

// SentBytes is what the handlers wrote in all. It closes the server first: Close waits
// for the handlers, and a client can have the whole body before its handler has counted it.
func (s *Server) SentBytes() int64 {
	s.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}
