package access

import (
	"crypto/subtle"

	"github.com/tillsync/tillsync/internal/intake"
)

// Verify finds the key whose secret is token — for a login form, where the
// key arrives in a body rather than an Authorization header. Every key is
// compared, in constant time, as for API requests.
func (g *Guard) Verify(token string) (Key, bool) {
	if token == "" {
		return Key{}, false
	}
	sum := []byte(intake.HashToken(token))
	var found Key
	match := 0
	for _, k := range g.Keys {
		if subtle.ConstantTimeCompare(sum, []byte(k.SHA256)) == 1 {
			found, match = k, 1
		}
	}
	return found, match == 1
}
