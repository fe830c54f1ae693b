package netsuite

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Token-Based Authentication is OAuth 1.0a (RFC 5849) with a NetSuite
// account as the realm and HMAC-SHA256 signatures (HMAC-SHA1 support ended
// with 2023.1). The signature covers the method, the base URI and every
// parameter — query parameters and the oauth_* ones — normalized as in
// RFC 5849 §3.4.1; the key is the percent-encoded consumer secret and token
// secret joined by "&" (§3.4.2).
//
// Oracle, "The Signature for Web Services and RESTlets":
// https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1534941088.html
// Oracle, "The Authorization Headers":
// https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1534941295.html

const signatureMethod = "HMAC-SHA256"

// signer adds the Authorization header to requests.
type signer struct {
	realm          string // the account ID, e.g. 1234567 or 1234567_SB1
	consumerKey    string
	consumerSecret string
	token          string
	tokenSecret    string
	now            func() time.Time
	nonce          func() string
}

// sign sets req's Authorization header. It signs the URL exactly as it
// will be sent (req.URL), so it must be called after the URL is final.
func (s *signer) sign(req *http.Request) error {
	query, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		return fmt.Errorf("oauth: query of %s: %w", req.URL.Path, err)
	}
	oauth := [][2]string{
		{"oauth_consumer_key", s.consumerKey},
		{"oauth_nonce", s.nonce()},
		{"oauth_signature_method", signatureMethod},
		{"oauth_timestamp", strconv.FormatInt(s.now().Unix(), 10)},
		{"oauth_token", s.token},
		{"oauth_version", "1.0"},
	}
	params := append([][2]string(nil), oauth...)
	for k, vs := range query {
		for _, v := range vs {
			params = append(params, [2]string{k, v})
		}
	}
	base := signatureBase(req.Method, baseURI(req.URL), params)
	sig := signature(sha256.New, signingKey(s.consumerSecret, s.tokenSecret), base)

	var b strings.Builder
	b.WriteString(`OAuth realm="` + percentEncode(s.realm) + `"`)
	for _, p := range oauth {
		b.WriteString(`, ` + p[0] + `="` + percentEncode(p[1]) + `"`)
	}
	b.WriteString(`, oauth_signature="` + percentEncode(sig) + `"`)
	req.Header.Set("Authorization", b.String())
	return nil
}

// signatureBase is the signature base string of RFC 5849 §3.4.1: the
// upper-case method, the encoded base string URI and the encoded
// normalized parameters, joined by "&".
func signatureBase(method, uri string, params [][2]string) string {
	enc := make([][2]string, len(params))
	for i, p := range params {
		enc[i] = [2]string{percentEncode(p[0]), percentEncode(p[1])}
	}
	// §3.4.1.3.2: sorted by encoded name, then by encoded value.
	sort.Slice(enc, func(i, j int) bool {
		if enc[i][0] != enc[j][0] {
			return enc[i][0] < enc[j][0]
		}
		return enc[i][1] < enc[j][1]
	})
	pairs := make([]string, len(enc))
	for i, p := range enc {
		pairs[i] = p[0] + "=" + p[1]
	}
	return strings.ToUpper(method) + "&" + percentEncode(uri) + "&" + percentEncode(strings.Join(pairs, "&"))
}

// baseURI is the base string URI of RFC 5849 §3.4.1.2: scheme and host in
// lower case, the port only when it is not the scheme's default, the path
// as sent, no query and no fragment.
func baseURI(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && !defaultPort(scheme, p) {
		host += ":" + p
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path
}

func defaultPort(scheme, port string) bool {
	return scheme == "http" && port == "80" || scheme == "https" && port == "443"
}

// signingKey is the HMAC key of RFC 5849 §3.4.2.
func signingKey(consumerSecret, tokenSecret string) string {
	return percentEncode(consumerSecret) + "&" + percentEncode(tokenSecret)
}

// signature is the base64 HMAC of the base string.
func signature(h func() hash.Hash, key, base string) string {
	mac := hmac.New(h, []byte(key))
	mac.Write([]byte(base))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// percentEncode encodes per RFC 5849 §3.6 (RFC 3986 unreserved characters
// stay, every other byte becomes %XX with upper-case hex).
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// randomNonce returns 20 random alphanumeric characters (NetSuite's own
// examples use 20; it accepts 6 to 64).
func randomNonce() string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var raw [20]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	out := make([]byte, len(raw))
	for i, r := range raw {
		out[i] = alphabet[int(r)%len(alphabet)]
	}
	return string(out)
}
