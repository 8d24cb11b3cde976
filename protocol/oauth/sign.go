package oauth

import (
	"fmt"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Sign issues c as an RS256 JWT with key's kid in its header (the fake
// identity provider's tokens, and tests'). key holds an *rsa.PrivateKey.
func Sign(key jose.JSONWebKey, c Claims) (string, error) {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("oauth: signer: %w", err)
	}
	tok, err := jwt.Signed(sig).Claims(c).Serialize()
	if err != nil {
		return "", fmt.Errorf("oauth: sign: %w", err)
	}
	return tok, nil
}
