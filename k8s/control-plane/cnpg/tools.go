//go:build tools

// Package cnpg pins the CloudNativePG operator's command, which build.sh compiles, so that
// `go mod tidy` keeps its dependencies in go.sum.
package cnpg

import (
	_ "github.com/cloudnative-pg/cloudnative-pg/cmd/manager"
)
