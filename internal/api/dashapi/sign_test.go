package dashapi_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

func sign(key []byte, in string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(in))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
