package main

import (
	"context"
	"io"

	"github.com/caaprobe/caaprobe/probes/check"
)

func preflight(ctx context.Context, cfg *check.Config, stderr io.Writer) error { return nil }
