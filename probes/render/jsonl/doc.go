// Package jsonl is the JSON Lines format of docs/json.md, both sides of
// it: the encoder that check, serve, the agents and the evidence bundles
// write one object per domain with (Write, WriteRun), the decoder that
// probes/runs reads saved runs back with (Decode), and the sink that
// render.New returns for --format json. Keys and codes are public: add
// keys, never rename or remove them without a documented migration.
package jsonl
