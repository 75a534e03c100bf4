package gocrash

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// spool writes r as one JSON file in dir (created 0700 if missing), named by its idempotency key
// with the suffix .json, and returns its path. The file is written under a temporary name
// beginning with "." and renamed, so a reader never sees half a report.
func spool(dir string, r report) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	raw, err := json.MarshalIndent(r, "", "\t")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, r.IdempotencyKey+".json")
	tmp, err := os.CreateTemp(dir, "."+r.IdempotencyKey+"-*.tmp")
	if err != nil {
		return "", err
	}
	_, err = tmp.Write(append(raw, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}
