package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/miekg/dns"
)

// explainResult is the part of explain --format json the tests read.
type explainResult struct {
	Message string
	Parse   struct {
		Format   string
		Names    []string
		Problems []struct {
			Names               []string
			Lookup, Kind, Climb string
			Perspective         string
		}
	}
	Checks []struct {
		Status, Answer, Domain, Name string
		Tries, Failed                int
		Servers                      []struct {
			Server, Code string
			Tries        int
			First        int `json:"first_try"`
		}
	}
	Advice  []string
	Domains []struct {
		Domain string
		Names  []struct{ Name string }
	}
}

func explainRun(t *testing.T, lab *fixtures.Lab, stdin string, args ...string) (explainResult, string, int) {
	t.Helper()
	full := append([]string{"explain", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--timeout", "1", "--format", "json"}, args...)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), full, strings.NewReader(stdin), &stdout, &stderr)
	var out explainResult
	if jerr := json.Unmarshal(stdout.Bytes(), &out); jerr != nil {
		t.Fatalf("explain %v: not JSON: %v\nstdout %s\nstderr %s", args, jerr, stdout.String(), stderr.String())
	}
	return out, stderr.String(), exitOf(err)
}

func labServer(t *testing.T, lab *fixtures.Lab, zone string) string {
	t.Helper()
	for _, s := range lab.Servers {
		if len(s.Zones) > 0 && s.Zones[0].Origin == zone+"." {
			return strings.TrimSuffix(s.Name, ".") + " (" + s.Addr.String() + ")"
		}
	}
	t.Fatalf("no server of %s in the lab", zone)
	return ""
}

// TestExplainNotimp: Let's Encrypt's SERVFAIL text naming notimp.test is
// reproduced at the lab's NOTIMP server; the message is quoted back.
func TestExplainNotimp(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	msg := "DNS problem: SERVFAIL looking up CAA for notimp.test - the domain's nameservers may be malfunctioning"
	out, stderr, code := explainRun(t, lab, "", msg)
	if code != exitFindings {
		t.Errorf("exit %d, want %d; stderr %s", code, exitFindings, stderr)
	}
	if out.Message != msg {
		t.Errorf("message not quoted: %q", out.Message)
	}
	if len(out.Checks) != 1 {
		t.Fatalf("checks %+v", out.Checks)
	}
	c := out.Checks[0]
	server := labServer(t, lab, "notimp.test")
	if c.Status != "reproduced" || !strings.HasPrefix(c.Answer, "reproduced: "+server) || !strings.Contains(c.Answer, "NOTIMP") {
		t.Errorf("answer %q (status %s), want reproduced at %s", c.Answer, c.Status, server)
	}
	if len(c.Servers) == 0 || c.Servers[0].Server != server || c.Servers[0].Code != "rcode-notimp" || c.Servers[0].Tries != 1 {
		t.Errorf("servers %+v", c.Servers)
	}
}

// TestExplainParentName: the failing lookup is a parent of the
// certificate's name (the RFC 8659 climb): the certificate's name is
// checked, the parent is the relevant name looked at, and the fault is
// found there.
func TestExplainParentName(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	msg := "While processing CAA for www.notimp.test: DNS problem: SERVFAIL looking up CAA for notimp.test - the domain's nameservers may be malfunctioning"
	out, _, code := explainRun(t, lab, "", msg)
	if code != exitFindings {
		t.Errorf("exit %d", code)
	}
	if len(out.Parse.Problems) != 1 || !strings.Contains(out.Parse.Problems[0].Climb, "notimp.test is a parent of www.notimp.test") {
		t.Fatalf("parse %+v", out.Parse)
	}
	c := out.Checks[0]
	if c.Domain != "www.notimp.test" || c.Name != "notimp.test" || c.Status != "reproduced" {
		t.Errorf("check %+v", c)
	}
	if len(out.Domains) != 1 {
		t.Fatalf("domains %+v", out.Domains)
	}
	var names []string
	for _, n := range out.Domains[0].Names {
		names = append(names, n.Name)
	}
	if !strings.Contains(strings.Join(names, " "), "notimp.test") || out.Domains[0].Domain != "www.notimp.test" {
		t.Errorf("checked %s with relevant names %v", out.Domains[0].Domain, names)
	}
}

// TestExplainPolicy: "prevents issuance" about a lab name whose CAA
// forbids Let's Encrypt: the policy line is the answer.
func TestExplainPolicy(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	out, _, code := explainRun(t, lab, "", "While processing CAA for www.flag1.test: CAA record for www.flag1.test prevents issuance")
	if code != exitFindings {
		t.Errorf("exit %d", code)
	}
	c := out.Checks[0]
	if c.Status != "reproduced" || !strings.HasPrefix(c.Answer, "the policy at www.flag1.test forbids letsencrypt.org: ") {
		t.Errorf("answer %q", c.Answer)
	}
}

// TestExplainHealthy: a timeout about ok.test (two conformant servers) is
// not reproduced, with the advice; from a remote perspective the advice
// points to the perspectives report.
func TestExplainHealthy(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	out, _, code := explainRun(t, lab, "", "DNS problem: query timed out looking up CAA for ok.test")
	if code != exitOK {
		t.Errorf("exit %d", code)
	}
	if c := out.Checks[0]; c.Status != "not-reproduced" || !strings.Contains(c.Answer, "not reproduced from here") || !strings.Contains(c.Answer, "--repeat") {
		t.Errorf("answer %+v", c)
	}
	out, _, _ = explainRun(t, lab, "", "During secondary validation: DNS problem: query timed out looking up CAA for ok.test")
	if c := out.Checks[0]; c.Status != "not-reproduced" || !strings.Contains(c.Answer, "remote perspective") || !strings.Contains(c.Answer, "--perspectives") {
		t.Errorf("remote answer %+v", c)
	}
	// The text form quotes the message first and ends with check's table.
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"explain", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--timeout", "1", "--no-color",
		"DNS problem: query timed out looking up CAA for ok.test"}, nil, &stdout, &stderr)
	text := stdout.String()
	if exitOf(err) != exitOK || !strings.HasPrefix(text, "Message:\n  > DNS problem: query timed out looking up CAA for ok.test\n") ||
		!strings.Contains(text, "not reproduced from here") || !strings.Contains(text, "ok.test") {
		t.Errorf("text form (exit %d):\n%s\n%s", exitOf(err), text, stderr.String())
	}
}

// TestExplainInputs: the message from -f FILE and from stdin; a message
// with no domain gets the advice and exit 2, never an empty answer.
func TestExplainInputs(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	path := filepath.Join(t.TempDir(), "letsencrypt.log")
	log := "The Certificate Authority reported these problems:\n  Domain: notimp.test\n  Type:   dns\n  Detail: DNS problem: SERVFAIL looking up CAA for notimp.test - the domain's nameservers may be malfunctioning\n"
	if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code := explainRun(t, lab, "", "-f", path)
	if code != exitFindings || out.Checks[0].Status != "reproduced" {
		t.Errorf("-f: exit %d, %+v", code, out.Checks)
	}
	out, _, code = explainRun(t, lab, log, "-")
	if code != exitFindings || out.Parse.Format != "certbot" {
		t.Errorf("stdin: exit %d, format %s", code, out.Parse.Format)
	}
	out, _, code = explainRun(t, lab, "", "Failure reason: CAA_ERROR")
	if code != exitUsage || len(out.Advice) == 0 || !strings.Contains(strings.Join(out.Advice, " "), "check --cert") || len(out.Parse.Problems) != 1 {
		t.Errorf("no domain: exit %d, %+v", code, out)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"explain", "--no-color", "MPIC failed.. CAA record does not include ssl.com"}, nil, &stdout, &stderr)
	if exitOf(err) != exitUsage || !strings.Contains(stdout.String(), "names no domain") || !strings.Contains(stdout.String(), "-f names.txt") {
		t.Errorf("no domain, text: exit %d\n%s", exitOf(err), stdout.String())
	}
	err = run(context.Background(), []string{"explain"}, strings.NewReader(""), &stdout, &stderr)
	if exitOf(err) != exitUsage || !strings.Contains(err.Error(), "no message") {
		t.Errorf("no message: %v", err)
	}
}

// flakyCAA answers SERVFAIL to one CAA query over TCP in k (the first,
// then every k-th), conformantly otherwise: a server that fails now and
// then, counted (no clock, no randomness). TCP, because only check's
// caa-tcp probe asks CAA over TCP, once per try: discovery's own CAA
// queries (UDP) would otherwise take the failure in an order that varies.
func flakyCAA(k int64) fixtures.Behaviour {
	var n atomic.Int64
	return fixtures.Behaviour{Name: "FlakyCAA", Doc: "SERVFAIL to one CAA query over TCP in k",
		Respond: func(r *fixtures.Request) *dns.Msg {
			if r.TCP && len(r.Msg.Question) > 0 && r.Msg.Question[0].Qtype == dns.TypeCAA && n.Add(1)%k == 1 {
				m := new(dns.Msg)
				m.SetRcode(r.Msg, dns.RcodeServerFailure)
				return m
			}
			return fixtures.Conformant.Respond(r)
		}}
}

// TestExplainRepeat: --repeat 4 on a server that fails one CAA query over
// TCP in 1000 finds the fault in exactly one try (the first), names the server
// and counts it.
func TestExplainRepeat(t *testing.T) {
	t.Parallel()
	lab, err := fixtures.Start(fixtures.Options{Cases: []fixtures.Case{{Zone: "flaky.test", Behaviours: []fixtures.Behaviour{flakyCAA(1000)}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	out, stderr, code := explainRun(t, lab, "", "--repeat", "4", "DNS problem: SERVFAIL looking up CAA for flaky.test - the domain's nameservers may be malfunctioning")
	if code != exitFindings {
		t.Errorf("exit %d; %s", code, stderr)
	}
	c := out.Checks[0]
	if c.Status != "intermittent" || c.Tries != 4 || c.Failed != 1 || !strings.HasPrefix(c.Answer, "reproduced in 1 of 4 tries: intermittent") {
		t.Errorf("check %+v", c)
	}
	server := labServer(t, lab, "flaky.test")
	found := false
	for _, s := range c.Servers {
		if s.Server == server && s.Code == "rcode-servfail" {
			found = true
			if s.Tries != 1 || s.First != 1 {
				t.Errorf("rcode-servfail counted %d times, first in try %d; want 1, 1", s.Tries, s.First)
			}
		}
	}
	if !found {
		t.Errorf("no rcode-servfail at %s: %+v", server, c.Servers)
	}
}
