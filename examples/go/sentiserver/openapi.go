// SPDX-License-Identifier: MIT OR Apache-2.0

package main

import _ "embed"

// openapiJSON is the OpenAPI 3 description of the routes, served at /openapi.json. The tests
// check that its paths and methods are exactly those of the routes table.
//
//go:embed openapi.json
var openapiJSON []byte
