package web

import (
	"encoding/base64"
	"strings"

	"github.com/tillsync/tillsync/internal/destination"
)

func destinationStats(ceiling int) destination.GovernorStats {
	return destination.GovernorStats{Ceiling: ceiling, Limit: float64(ceiling), InFlight: 1}
}

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
