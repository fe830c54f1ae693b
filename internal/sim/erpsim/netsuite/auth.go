package netsuite

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Token-Based Authentication as NetSuite checks it: the Authorization
// header names the account (realm), the integration (consumer key) and
// the access token; the server recomputes the HMAC-SHA256 signature over
// the request it received and refuses a stale timestamp or a nonce seen
// before. This is written apart from the connector's signer on purpose, so
// that a mistake in one is caught by the other.

// timestampWindow is how far a request's timestamp may be from the
// server's clock.
const timestampWindow = 5 * time.Minute

// authenticate verifies r's OAuth 1.0a header. The error says why, for the
// simulator's log; the client only ever sees INVALID_LOGIN.
func (s *Server) authenticate(r *http.Request) error {
	h := r.Header.Get("Authorization")
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "OAuth") {
		return errors.New("no OAuth Authorization header")
	}
	params := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return fmt.Errorf("malformed Authorization parameter %q", part)
		}
		val, err := url.PathUnescape(v[1 : len(v)-1])
		if err != nil {
			return fmt.Errorf("authorization parameter %s: %w", k, err)
		}
		if _, dup := params[k]; dup {
			return fmt.Errorf("authorization parameter %s given twice", k)
		}
		params[k] = val
	}
	for _, k := range []string{"realm", "oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_timestamp", "oauth_nonce", "oauth_signature"} {
		if params[k] == "" {
			return fmt.Errorf("authorization lacks %s", k)
		}
	}
	switch {
	case !strings.EqualFold(params["realm"], s.creds.AccountID):
		return fmt.Errorf("realm %q is not account %s", params["realm"], s.creds.AccountID)
	case params["oauth_consumer_key"] != s.creds.ConsumerKey:
		return errors.New("unknown consumer key")
	case params["oauth_token"] != s.creds.TokenID:
		return errors.New("unknown token")
	case params["oauth_signature_method"] != "HMAC-SHA256":
		return fmt.Errorf("signature method %q (NetSuite accepts HMAC-SHA256 only)", params["oauth_signature_method"])
	case params["oauth_version"] != "" && params["oauth_version"] != "1.0":
		return fmt.Errorf("oauth_version %q", params["oauth_version"])
	case len(params["oauth_nonce"]) < 6 || len(params["oauth_nonce"]) > 64:
		return fmt.Errorf("nonce of %d characters (6 to 64 allowed)", len(params["oauth_nonce"]))
	}
	ts, err := strconv.ParseInt(params["oauth_timestamp"], 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q", params["oauth_timestamp"])
	}
	now := s.now()
	if d := now.Sub(time.Unix(ts, 0)); d > timestampWindow || d < -timestampWindow {
		return fmt.Errorf("timestamp %d is %s away from the server's clock", ts, d.Round(time.Second))
	}

	// Every parameter but the signature and the realm, plus the query.
	var pairs [][2]string
	for k, v := range params {
		if k != "realm" && k != "oauth_signature" {
			pairs = append(pairs, [2]string{k, v})
		}
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	for k, vs := range query {
		for _, v := range vs {
			pairs = append(pairs, [2]string{k, v})
		}
	}
	want := expectedSignature(r.Method, requestURI(r), pairs, s.creds.ConsumerSecret, s.creds.TokenSecret)
	if !hmac.Equal([]byte(want), []byte(params["oauth_signature"])) {
		return errors.New("signature does not match")
	}

	// A nonce is good once (per token and timestamp) within the window.
	key := params["oauth_token"] + "\x00" + params["oauth_nonce"] + "\x00" + params["oauth_timestamp"]
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, seen := s.nonces[key]; seen {
		return errors.New("nonce used before")
	}
	if len(s.nonces) > 50000 {
		for k, at := range s.nonces {
			if now.Sub(at) > 2*timestampWindow {
				delete(s.nonces, k)
			}
		}
	}
	s.nonces[key] = now
	return nil
}

// requestURI is the base string URI of the request as received (RFC 5849
// §3.4.1.2): lower-case scheme and host, no default port, the path as sent.
func requestURI(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := strings.ToLower(r.Host)
	if h, p, err := net.SplitHostPort(host); err == nil {
		if (scheme == "http" && p == "80") || (scheme == "https" && p == "443") {
			host = h
			if strings.Contains(h, ":") {
				host = "[" + h + "]"
			}
		}
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path
}

// expectedSignature computes the HMAC-SHA256 signature of a request.
func expectedSignature(method, uri string, pairs [][2]string, consumerSecret, tokenSecret string) string {
	type pair struct{ k, v string }
	enc := make([]pair, len(pairs))
	for i, p := range pairs {
		enc[i] = pair{encode(p[0]), encode(p[1])}
	}
	// §3.4.1.3.2: by encoded name, then by encoded value. (Sorting the
	// joined "name=value" strings would not do: "a-b=1" sorts before "a=2".)
	sort.Slice(enc, func(i, j int) bool {
		if enc[i].k != enc[j].k {
			return enc[i].k < enc[j].k
		}
		return enc[i].v < enc[j].v
	})
	joined := make([]string, len(enc))
	for i, p := range enc {
		joined[i] = p.k + "=" + p.v
	}
	base := strings.ToUpper(method) + "&" + encode(uri) + "&" + encode(strings.Join(joined, "&"))
	mac := hmac.New(sha256.New, []byte(encode(consumerSecret)+"&"+encode(tokenSecret)))
	mac.Write([]byte(base))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// encode is RFC 3986 percent-encoding: unreserved characters stay.
func encode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
