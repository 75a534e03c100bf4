package gocrash

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// report is the body of POST /api/v1/crashes, and of a spool file with its idempotency key.
type report struct {
	Text           string            `json:"text"`
	Kind           string            `json:"kind"`
	Time           string            `json:"time"`
	Host           string            `json:"host"`
	Service        string            `json:"service"`
	Version        string            `json:"version"`
	Attributes     map[string]string `json:"attributes"`
	IdempotencyKey string            `json:"idempotencyKey,omitempty"`
}

// heartbeat is the body of POST /api/v1/heartbeats.
type heartbeat struct {
	Time       string            `json:"time"`
	Host       string            `json:"host"`
	Service    string            `json:"service"`
	Version    string            `json:"version"`
	Attributes map[string]string `json:"attributes"`
}

// poster sends JSON to the server with the ingest token.
type poster struct {
	server string
	token  string
	http   *http.Client
}

// post sends one request; an error wrapping errPermanent means the server refused the body
// (a 4xx other than 408 and 429), which sending again will not change.
func (p *poster) post(ctx context.Context, path string, body any, key string) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.server+path, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := p.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("POST %s: %s: %s", path, res.Status, bytes.TrimSpace(answer))
	if res.StatusCode >= 400 && res.StatusCode < 500 && res.StatusCode != 408 && res.StatusCode != 429 {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	return err
}

// postRetrying posts until the server takes the body, refuses it, or `budget` has passed,
// waiting 250 ms after the first failure and doubling up to 8 s between attempts; the last
// attempt is made when the budget ends.
func (p *poster) postRetrying(path string, body any, key string, budget time.Duration) error {
	deadline := time.Now().Add(budget)
	wait := 250 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), min(10*time.Second, max(time.Until(deadline), time.Second)))
		err := p.post(ctx, path, body, key)
		cancel()
		if err == nil || isPermanent(err) {
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("gave up after %s: %w", budget, err)
		}
		time.Sleep(min(wait, left))
		wait = min(wait*2, 8*time.Second)
	}
}

func isPermanent(err error) bool { return errors.Is(err, errPermanent) }
