package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Tokenizer replaces personal data with keyed tokens: HMAC-SHA256 under a
// secret key, so the same customer gets the same token (loyalty and returns
// can still join on it) while the value cannot be recovered or confirmed by
// anyone without the key. PCI DSS v4.0.1 Req. 3.5.1.1 asks for exactly this
// of hashes standing in for PANs ("keyed cryptographic hashes … with
// associated key-management processes", HMAC among the glossary's examples);
// we hold personal data to the same bar. Source:
// https://withpci.com/requirements/3/3.5/3.5.1.1.html
//
// Keys rotate: new tokens use the current key, and every token names its key
// ("tok:v2:…"), so tokens made under an older key stay recognisable and can
// be recomputed under it (TokenWith) to join old records to new ones.
type Tokenizer struct {
	current string
	keys    map[string][]byte
}

// MinKeyBytes is the shortest secret accepted: 128 bits, the effective
// strength the PCI glossary asks of keyed hashes (NIST SP 800-131A).
const MinKeyBytes = 16

// tokenBytes is how much of the HMAC a token keeps: 128 bits.
const tokenBytes = 16

// tokenLen is the length of the base64url part of a token.
var tokenLen = base64.RawURLEncoding.EncodedLen(tokenBytes)

// NewTokenizer returns a Tokenizer that makes new tokens with the key
// current, one of keys. Key IDs are 1–32 letters, digits, '_' or '-';
// secrets are at least MinKeyBytes long.
func NewTokenizer(current string, keys map[string][]byte) (*Tokenizer, error) {
	t := &Tokenizer{current: current, keys: make(map[string][]byte, len(keys))}
	for id, k := range keys {
		if !validKeyID(id) {
			return nil, fmt.Errorf("PII key ID %q: use 1–32 letters, digits, _ or -", id)
		}
		if len(k) < MinKeyBytes {
			return nil, fmt.Errorf("PII key %q: %d bytes; use at least %d random bytes (e.g. openssl rand -hex 32)", id, len(k), MinKeyBytes)
		}
		t.keys[id] = append([]byte(nil), k...)
	}
	if _, ok := t.keys[current]; !ok {
		return nil, fmt.Errorf("PII key %q is the current key but is not among the keys", current)
	}
	return t, nil
}

// ParseKey parses "KEYID=SECRET" as given on the command line or in
// configuration. SECRET is "hex:…", "base64:…" (standard or URL alphabet,
// padded or not) or, without a prefix, the bytes of the string itself.
func ParseKey(s string) (id string, secret []byte, err error) {
	id, v, ok := strings.Cut(s, "=")
	if !ok || id == "" || v == "" {
		return "", nil, errors.New("PII key: want KEYID=SECRET (SECRET as hex:…, base64:… or text)")
	}
	switch {
	case strings.HasPrefix(v, "hex:"):
		secret, err = hex.DecodeString(v[len("hex:"):])
	case strings.HasPrefix(v, "base64:"):
		b := strings.TrimRight(v[len("base64:"):], "=")
		if secret, err = base64.RawStdEncoding.DecodeString(b); err != nil {
			secret, err = base64.RawURLEncoding.DecodeString(b)
		}
	default:
		secret = []byte(v)
	}
	if err != nil {
		return "", nil, fmt.Errorf("PII key %q: %w", id, err)
	}
	return id, secret, nil
}

func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > 32 {
		return false
	}
	for i := range len(id) {
		if !isB64(id[i]) {
			return false
		}
	}
	return true
}

// KeyID returns the ID of the key new tokens are made with.
func (t *Tokenizer) KeyID() string { return t.current }

// Token returns the token of a value of a kind under the current key:
// "tok:<key ID>:<22 characters of base64url>". Values are normalized first
// (e-mail addresses lowercased, phone numbers reduced to + and digits,
// names and addresses case-folded with spaces collapsed), so spelling
// variants of one customer share a token.
func (t *Tokenizer) Token(k Kind, value string) string {
	tok, _ := t.TokenWith(t.current, k, value) // the current key exists: checked by NewTokenizer
	return tok
}

// TokenWith returns the token of a value under a given key, to find records
// tokenized before a rotation.
func (t *Tokenizer) TokenWith(keyID string, k Kind, value string) (string, error) {
	key, ok := t.keys[keyID]
	if !ok {
		return "", fmt.Errorf("no PII key %q", keyID)
	}
	m := hmac.New(sha256.New, key)
	// Domain separation: the same string as an e-mail and as a name gives
	// different tokens, and no other use of the key can collide with these.
	m.Write([]byte("tillsync/pii/v1\x00"))
	m.Write([]byte(tokenKind(k)))
	m.Write([]byte{0})
	m.Write([]byte(normalize(k, value)))
	var sum [sha256.Size]byte
	b := make([]byte, 0, len("tok::")+len(keyID)+tokenLen)
	b = append(b, "tok:"...)
	b = append(b, keyID...)
	b = append(b, ':')
	b = base64.RawURLEncoding.AppendEncode(b, m.Sum(sum[:0])[:tokenBytes])
	return string(b), nil
}

func tokenKind(k Kind) string {
	if k == Email || k == Phone {
		return k.String()
	}
	return Personal.String()
}

// normalize puts a value in the form its token is computed from.
func normalize(k Kind, v string) string {
	switch k {
	case Email:
		return strings.ToLower(strings.TrimSpace(v))
	case Phone:
		var b strings.Builder
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, "00") {
			b.WriteByte('+')
			v = v[2:]
		}
		for i := range len(v) {
			if c := v[i]; c >= '0' && c <= '9' || c == '+' && b.Len() == 0 {
				b.WriteByte(c)
			}
		}
		return b.String()
	}
	return strings.ToLower(strings.Join(strings.Fields(v), " "))
}

// IsToken reports whether s is a token as Token makes them, under any key.
func IsToken(s string) bool { return isToken(s) }

func isToken[T text](s T) bool {
	if len(s) < len("tok:x:")+tokenLen || string(s[:4]) != "tok:" {
		return false
	}
	rest := s[4:]
	i := 0
	for i < len(rest) && rest[i] != ':' {
		i++
	}
	if i == len(rest) || !validKeyID(string(rest[:i])) {
		return false
	}
	b := rest[i+1:]
	if len(b) != tokenLen {
		return false
	}
	for j := range len(b) {
		if !isB64(b[j]) {
			return false
		}
	}
	return true
}
