// Package evidence turns what caaprobe kept of a check — the raw bytes of
// every query and reply, when they were sent and to which address — into
// material a user can attach to a support ticket: a Markdown report with
// dig-style transcripts and the dig command that reproduces each query, a
// pcap of the exchanges for Wireshark, and the domain's JSON line.
//
// Everything shown as wire data comes from the captured bytes; parsed views
// (sections, EDNS) sit beside the bytes, never in their place. Text that
// came from the network is escaped so it cannot drive a terminal or break
// out of a Markdown code block. Bundles are written inside an os.Root, so a
// symlink in the output directory cannot redirect them, and atomically, so
// a bundle is either complete or absent.
package evidence
