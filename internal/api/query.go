package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/storable"
)

// queryParams reads, from openapi.json, the query parameters each
// operation takes, keyed by "METHOD /path". The document is the contract:
// a parameter it does not describe is refused rather than ignored, so a
// client filtering by something the API cannot filter on (a typo, or
// ?external_id= on a list that has no such filter) hears about it instead
// of getting every row.
func queryParams(doc []byte) (map[string][]string, error) {
	type param struct {
		Name string `json:"name"`
		In   string `json:"in"`
	}
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &spec); err != nil {
		return nil, fmt.Errorf("read openapi.json: %w", err)
	}
	out := map[string][]string{}
	for path, item := range spec.Paths {
		var shared []param
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &shared); err != nil {
				return nil, fmt.Errorf("openapi.json %s parameters: %w", path, err)
			}
		}
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op struct {
				Parameters []param `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("openapi.json %s %s: %w", method, path, err)
			}
			names := []string{}
			for _, p := range append(slices.Clone(shared), op.Parameters...) {
				if p.In == "query" && !slices.Contains(names, p.Name) {
					names = append(names, p.Name)
				}
			}
			out[strings.ToUpper(method)+" "+path] = names
		}
	}
	return out, nil
}

// checkQuery refuses a query string that cannot be read, names a
// parameter the route does not take, or gives one parameter twice (only
// the first would count).
func checkQuery(r *http.Request, route string, allowed []string) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	values, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return problem.New(problem.Malformed, "malformed_query", "", "the query string cannot be read: "+err.Error())
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names) // the same request always names the same parameter
	for _, name := range names {
		if !slices.Contains(allowed, name) {
			takes := "no query parameters"
			if len(allowed) > 0 {
				takes = "only " + strings.Join(allowed, ", ")
			}
			return problem.New(problem.Malformed, "unknown_parameter", name,
				fmt.Sprintf("%q is not a query parameter of %s; it takes %s", name, route, takes))
		}
		if len(values[name]) > 1 {
			return problem.New(problem.Malformed, "repeated_parameter", name,
				fmt.Sprintf("%q is given %d times; give it once", name, len(values[name])))
		}
		if v := values[name][0]; !storable.Text(v) {
			return problem.New(problem.Malformed, "malformed_query", name,
				fmt.Sprintf("%q %s", name, storable.Why(v)))
		}
	}
	return nil
}

// checkPath refuses a path whose decoded text could name nothing Herald
// keeps: a NUL character or bytes that are not UTF-8 (%00, %FF). Without
// this, PostgreSQL would fail the look-up it reaches.
func checkPath(r *http.Request) error {
	if storable.Text(r.URL.Path) {
		return nil
	}
	return problem.New(problem.Malformed, "malformed_path", "", "the path "+storable.Why(r.URL.Path))
}
