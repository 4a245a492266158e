package auth_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rtd-project/rtd/auth"
)

// The issuer (your backend) signs a connection token; rtd verifies it and
// checks each subscribe and publish against its claims.
func ExampleVerifier_Verify() {
	secret := []byte("0123456789abcdef0123456789abcdef")
	token, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub":      "ann",
		"channels": []string{"news", "chat:*"},
		"publish":  []string{"chat:42"},
		"exp":      time.Now().Add(time.Hour).Unix(),
	}).SignedString(secret)

	v, err := auth.NewVerifier(auth.Options{Secret: secret})
	if err != nil {
		panic(err)
	}
	c, err := v.Verify(token)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.User, c.CanSubscribe("chat:7"), c.CanPublish("chat:7"), c.CanSubscribe("user:ann"))

	_, err = v.Verify(token + "x")
	fmt.Println(errors.Is(err, auth.ErrInvalidToken), err)
	// Output:
	// ann true false true
	// true auth: invalid token: signature does not verify
}

func ExampleNewVerifier() {
	_, err := auth.NewVerifier(auth.Options{})
	fmt.Println(err)
	_, err = auth.NewVerifier(auth.Options{PublicKeyFile: "/nonexistent/jwks.json"})
	fmt.Println(errors.Is(err, auth.ErrKeyFile))
	// Output:
	// auth: no verification key configured
	// true
}

func ExampleMatch() {
	patterns := []string{"news", "chat:*"}
	for _, ch := range []string{"news", "chat:42", "chat", "chatx:1"} {
		fmt.Println(ch, auth.Match(patterns, ch))
	}
	// Output:
	// news true
	// chat:42 true
	// chat false
	// chatx:1 false
}

func ExampleClaims_CanSubscribe() {
	c := &auth.Claims{User: "ann", Channels: []string{"news"}}
	fmt.Println(c.CanSubscribe("news"), c.CanSubscribe(auth.PersonalChannel("ann")), c.CanSubscribe("user:bob"))
	// Output: true true false
}

func ExampleClaims_CanPublish() {
	c := &auth.Claims{User: "ann", Publish: []string{"chat:*"}}
	fmt.Println(c.CanPublish("chat:42"), c.CanPublish("user:ann"))
	// Output: true false
}
