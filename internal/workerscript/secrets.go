package workerscript

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// secretHashIterations makes guessing a weak secret from its hash in state expensive while
// keeping a plan of many secrets fast (about a millisecond each).
const secretHashIterations = 20000

// HashSecret returns "pbkdf2-sha256$<iterations>$<salt>$<hash>" of value. State keeps this,
// never the value. The salt comes from scope (e.g. "<script>/<secret name>"): the same value
// hashes the same at plan and at apply, yet precomputed tables would be per secret.
func HashSecret(value, scope string) string {
	sum := sha256.Sum256([]byte("servicesdo secret salt\x00" + scope))
	return formatSecretHash(value, sum[:16], secretHashIterations)
}

func formatSecretHash(value string, salt []byte, iterations int) string {
	key, _ := pbkdf2.Key(sha256.New, value, salt, iterations, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", iterations, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// SecretMatches reports whether hash (from HashSecret) is the hash of value.
func SecretMatches(hash, value string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	iterations, err := strconv.Atoi(parts[1])
	if err != nil || iterations < 1 || iterations > 10*secretHashIterations {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(formatSecretHash(value, salt, iterations)), []byte(hash)) == 1
}
