// Package probes holds caaprobe's library; it has no code of its own. The
// data flows one way through its packages: catalog (what is asked, what
// can be found) → wire and transport (bytes on the network) → discovery →
// judge (bytes → findings) → predict (what the resolver and the CA make of
// them) → report and render (what the user reads). docs/architecture.md
// draws the layout and says which package does what.
package probes
