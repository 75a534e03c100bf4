package gocrash

import (
	"context"
	"time"
)

// heartbeats posts a heartbeat now and then every interval until Stop; a heartbeat that fails is
// not sent again, as the next one says the same.
func (c *Client) heartbeats(interval time.Duration) {
	defer close(c.done)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		_ = c.Heartbeat()
		select {
		case <-c.stop:
			return
		case <-ticker.C:
		}
	}
}

// Heartbeat posts one heartbeat: the host, service, version and attributes, now.
func (c *Client) Heartbeat() error {
	s := c.settings
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.poster.post(ctx, "/api/v1/heartbeats", heartbeat{
		Time:       time.Now().UTC().Format(time.RFC3339Nano),
		Host:       s.Host,
		Service:    s.Service,
		Version:    s.Version,
		Attributes: s.Attributes,
	}, "")
}
