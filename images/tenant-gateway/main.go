// tenant-gateway: the only container on both a tenant's own network and the platform's
// (components/tenant/tenant-gateway.ts). It forwards exactly three ports to fixed targets:
//
//	:8069, :8072  HTTP to the tenant's Odoo (Traefik's requests, the real-time channel)
//	:5432         TCP to the platform's database endpoint (the pooler or the shared server)
//
// and, because every request for the tenant passes here, it is also the tenant's waker: a
// request that finds Odoo not answering (asleep, or restarting) asks the platform's API to wake
// the tenant and is held until Odoo answers (its body untouched), or answered 503 with
// Retry-After after HOLD_SECONDS; a browser navigation gets a page that reloads itself instead.
// It reports the tenant's activity (real user requests, open websockets) so the API can tell an
// idle tenant. Standard library only.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type config struct {
	odooHost       string
	databaseTarget string
	tenant         string
	wakerURL       string // the API's base URL; empty: forward only, never wake
	wakerToken     string
	hold           time.Duration
	reportEvery    time.Duration
}

func loadConfig() (config, error) {
	env := func(k, fallback string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return fallback
	}
	seconds := func(k string, fallback int) (time.Duration, error) {
		n, err := strconv.Atoi(env(k, strconv.Itoa(fallback)))
		if err != nil || n < 1 {
			return 0, fmt.Errorf("%s must be a whole number of seconds, at least 1", k)
		}
		return time.Duration(n) * time.Second, nil
	}
	c := config{
		odooHost:       os.Getenv("ODOO_HOST"),
		databaseTarget: net.JoinHostPort(os.Getenv("DATABASE_HOST"), os.Getenv("DATABASE_PORT")),
		tenant:         os.Getenv("TENANT"),
		wakerURL:       strings.TrimRight(os.Getenv("WAKER_URL"), "/"),
		wakerToken:     os.Getenv("WAKER_TOKEN"),
	}
	// On Swarm the token is a secret file, named by WAKER_TOKEN_FILE.
	if file := os.Getenv("WAKER_TOKEN_FILE"); c.wakerToken == "" && file != "" {
		token, err := os.ReadFile(file)
		if err != nil {
			return c, fmt.Errorf("WAKER_TOKEN_FILE: %w", err)
		}
		c.wakerToken = string(token)
	}
	for _, k := range []string{"ODOO_HOST", "DATABASE_HOST", "DATABASE_PORT"} {
		if os.Getenv(k) == "" {
			return c, fmt.Errorf("%s is required", k)
		}
	}
	if c.wakerURL != "" && (c.tenant == "" || c.wakerToken == "") {
		return c, errors.New("WAKER_URL needs TENANT and WAKER_TOKEN (or WAKER_TOKEN_FILE)")
	}
	var err error
	if c.hold, err = seconds("HOLD_SECONDS", 60); err != nil {
		return c, err
	}
	if c.reportEvery, err = seconds("ACTIVITY_REPORT_SECONDS", 60); err != nil {
		return c, err
	}
	return c, nil
}

// errNotReady: Odoo did not answer within the hold.
var errNotReady = errors.New("the instance is starting")

type gateway struct {
	config
	client *http.Client
	dialer net.Dialer

	lastActivity atomic.Int64 // unix nanoseconds of the last request that counts as use
	websockets   atomic.Int64 // open websocket connections

	reachableAt atomic.Int64 // when a connection to Odoo last succeeded (unix nanoseconds)

	wakeMu     sync.Mutex
	wakeSentAt time.Time
}

// wakeSpacing: one wake request per this, however many requests find Odoo down (the API's wake
// is idempotent; this only spares it the repeats).
const wakeSpacing = 5 * time.Second

// counts tells whether a request is the tenant's use of its instance: health checks, monitoring
// probes and the real-time channel are not (Odoo <= 15 long-polls forever from any open tab, so
// counting it would keep an abandoned tab's instance awake); an open websocket is counted apart,
// for as long as it stays open.
func counts(r *http.Request) bool {
	p := r.URL.Path
	switch {
	case r.Header.Get("X-Odoo-Saas-Probe") != "":
		return false
	case p == "/web/health", p == "/websocket", strings.HasPrefix(p, "/longpolling/"):
		return false
	}
	return true
}

func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// isNavigation: a browser loading a page, which can be shown a "starting" page instead of waiting
// with a blank tab.
func isNavigation(r *http.Request) bool {
	if r.Method != http.MethodGet || isWebsocket(r) {
		return false
	}
	if mode := r.Header.Get("Sec-Fetch-Mode"); mode != "" {
		return mode == "navigate"
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// wakesKey marks a request whose wait for Odoo may wake it (real use).
type wakesKey struct{}

// dialOdoo connects to Odoo, waiting for it up to the hold (and, for real use, asking for it to be
// woken): a request's body is only read once the connection exists, so a held POST arrives whole.
func (g *gateway) dialOdoo(ctx context.Context, network, addr string) (net.Conn, error) {
	wakes, _ := ctx.Value(wakesKey{}).(bool)
	deadline := time.Now().Add(g.hold)
	// Short pauses: every one is added to a held request once Odoo listens (a 1 s cap cost a wake
	// up to a second, bench/wake). A refused dial on the tenant's network is cheap.
	pause := 50 * time.Millisecond
	for {
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := g.dialer.DialContext(attempt, network, addr)
		cancel()
		if err == nil {
			g.reachableAt.Store(time.Now().UnixNano())
			return conn, nil
		}
		if wakes {
			g.wake()
		}
		if time.Now().Add(pause).After(deadline) {
			return nil, errNotReady
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(pause*2, 250*time.Millisecond)
	}
}

// odooAnswers: a connection to Odoo succeeded in the last 2 s, or one succeeds now.
func (g *gateway) odooAnswers(port string) bool {
	if time.Since(time.Unix(0, g.reachableAt.Load())) < 2*time.Second {
		return true
	}
	conn, err := g.dialer.Dial("tcp", net.JoinHostPort(g.odooHost, port))
	if err != nil {
		return false
	}
	conn.Close()
	g.reachableAt.Store(time.Now().UnixNano())
	return true
}

// expectingOdoo: Odoo answered, or was asked to wake, within the hold: it is restarting or
// starting, so a request that does not wake it may still wait for it.
func (g *gateway) expectingOdoo() bool {
	g.wakeMu.Lock()
	asked := g.wakeSentAt
	g.wakeMu.Unlock()
	return time.Since(time.Unix(0, g.reachableAt.Load())) < g.hold || time.Since(asked) < g.hold
}

// wake asks the API to start the tenant, at most once per wakeSpacing, without waiting.
func (g *gateway) wake() {
	if g.wakerURL == "" {
		return
	}
	g.wakeMu.Lock()
	if time.Since(g.wakeSentAt) < wakeSpacing {
		g.wakeMu.Unlock()
		return
	}
	g.wakeSentAt = time.Now()
	g.wakeMu.Unlock()
	go func() {
		if err := g.post("wake", nil); err != nil {
			log.Printf("wake request failed (asked again by a request %s from now): %v", wakeSpacing, err)
		}
	}()
}

func (g *gateway) post(what string, body io.Reader) error {
	req, err := http.NewRequest(http.MethodPost, g.wakerURL+"/gateway/tenants/"+url.PathEscape(g.tenant)+"/"+what, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+g.wakerToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := g.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("the API answered %s", res.Status)
	}
	return nil
}

// reportActivity tells the API, at most every reportEvery, that the tenant was used (a request
// that counts, or a websocket open meanwhile); the first use after a quiet spell at once.
func (g *gateway) reportActivity() {
	if g.wakerURL == "" {
		return
	}
	var reported int64
	var sentAt time.Time
	for range time.Tick(time.Second) {
		last := g.lastActivity.Load()
		open := g.websockets.Load()
		if (last <= reported && open == 0) || time.Since(sentAt) < g.reportEvery {
			continue
		}
		body := fmt.Sprintf(`{"websockets":%d}`, open)
		if err := g.post("activity", strings.NewReader(body)); err != nil {
			log.Printf("activity report failed (sent again next second): %v", err)
			continue
		}
		reported, sentAt = last, time.Now()
	}
}

const startingPage = `<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">
<title>Starting…</title>
<style>body{font-family:sans-serif;text-align:center;margin-top:20vh;color:#444}</style></head>
<body><h1>Your Odoo is starting</h1><p>This page reloads by itself in a few seconds.</p></body></html>
`

func (g *gateway) httpHandler(port string) http.Handler {
	target := &url.URL{Scheme: "http", Host: net.JoinHostPort(g.odooHost, port)}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = retryingIdempotent{&http.Transport{
		DialContext: g.dialOdoo,
		// A fresh connection per request: a kept one may be to an Odoo that has since restarted,
		// and a POST on it could not be replayed.
		DisableKeepAlives: true,
	}, g.hold}
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		if errors.Is(err, errNotReady) {
			w.Header().Set("Retry-After", "5")
			http.Error(w, "the instance is starting: try again in a few seconds", http.StatusServiceUnavailable)
			return
		}
		if errors.Is(err, context.Canceled) {
			return // the client went away
		}
		log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
		http.Error(w, "the instance did not answer", http.StatusBadGateway)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		use := counts(r)
		if use {
			g.lastActivity.Store(time.Now().UnixNano())
		}
		// What is not use never wakes a stopped Odoo (a probe would keep every tenant awake, an open
		// tab's long-polling or websocket reconnects would wake it again and again); it waits only
		// for an Odoo that is restarting or being woken anyway.
		if !use && !g.odooAnswers(port) && !g.expectingOdoo() {
			w.Header().Set("Retry-After", "5")
			http.Error(w, "the instance is not running", http.StatusServiceUnavailable)
			return
		}
		if isNavigation(r) && !g.odooAnswers(port) {
			g.wake()
			w.Header().Set("Retry-After", "3")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, startingPage)
			return
		}
		if isWebsocket(r) {
			g.websockets.Add(1)
			defer g.websockets.Add(-1)
		}
		proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), wakesKey{}, use)))
	})
}

// retryingIdempotent sends a request without a body again when Odoo went away before answering it
// (stopped for a restart while the request was in flight): the next connection waits for the new
// Odoo. A request with a body is never sent twice.
// Within the hold only, a second apart: an Odoo that keeps dropping requests gets them back.
type retryingIdempotent struct {
	next http.RoundTripper
	hold time.Duration
}

func (t retryingIdempotent) RoundTrip(r *http.Request) (*http.Response, error) {
	deadline := time.Now().Add(t.hold)
	for {
		res, err := t.next.RoundTrip(r)
		replayable := r.Body == nil || r.Body == http.NoBody
		safe := r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions
		if err == nil || !replayable || !safe || errors.Is(err, errNotReady) ||
			r.Context().Err() != nil || time.Now().Add(time.Second).After(deadline) {
			return res, err
		}
		log.Printf("%s %s: Odoo went away before answering (%v): sent again", r.Method, r.URL.Path, err)
		time.Sleep(time.Second)
	}
}

// forwardTCP copies each connection on listen to target, resolved per connection (a restarted
// pooler has a new address).
func forwardTCP(listen, target string) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	for {
		in, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer in.Close()
			out, err := net.DialTimeout("tcp", target, 10*time.Second)
			if err != nil {
				log.Printf("database endpoint %s: %v", target, err)
				return
			}
			defer out.Close()
			done := make(chan struct{}, 2)
			go func() { io.Copy(out, in); out.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
			go func() { io.Copy(in, out); in.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
			<-done
			<-done
		}()
	}
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("tenant-gateway: ")
	c, err := loadConfig()
	if err != nil {
		log.Fatal(err)
	}
	g := &gateway{config: c, client: &http.Client{Timeout: 10 * time.Second}}
	go g.reportActivity()
	// As PID 1 it must stop on SIGTERM itself (the kernel ignores it otherwise, and the engine
	// waits its whole stop timeout): the requests in flight get a few seconds to finish.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	// Any listener that stops stops the gateway: the engine restarts it, never half of it.
	failed := make(chan error, 3)
	var servers []*http.Server
	for _, port := range []string{"8069", "8072"} {
		server := &http.Server{Addr: ":" + port, Handler: g.httpHandler(port), ReadHeaderTimeout: 30 * time.Second}
		servers = append(servers, server)
		go func() { failed <- server.ListenAndServe() }()
	}
	go func() { failed <- forwardTCP(":5432", c.databaseTarget) }()
	select {
	case err := <-failed:
		log.Fatal(err)
	case <-stop:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, s := range servers {
			s.Shutdown(ctx)
		}
	}
}
