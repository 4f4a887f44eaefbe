// Package model is caaprobe's vocabulary and the record of a check: probe
// IDs, finding codes and severities, the exchange (bytes in, bytes out),
// a probe's result, and a domain with its names, servers, findings,
// verdict, predicted outcome and policy. It is the leaf of the project:
// it imports no other caaprobe package, so every stage (discovery, the
// probes and their judge, the resolver and CA models, the renderers)
// reads and writes the same types without depending on each other.
//
// Methods here are pure and need nothing but the values: what needs the
// catalog (a finding's severity, the order of the matrix columns) is the
// judge's (probes/judge) or the renderers'.
package model
