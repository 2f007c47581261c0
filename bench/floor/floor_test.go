package main

import (
	"context"
	"testing"

	"github.com/heraldsms/herald/internal/db/dbtest"
)

// The parts are run small, so a change that breaks one fails here rather
// than in the next person's measurement.

func TestHTTPPartMakesFourExchangesAMessage(t *testing.T) {
	res, err := runHTTP(context.Background(), 50, 4)
	if err != nil {
		t.Fatal(err)
	}
	if res.N != 200 {
		t.Errorf("exchanges = %d, want 200 (four for each of 50 messages)", res.N)
	}
	if res.PerS <= 0 || res.PerMessageUs < res.MachineCPUUs {
		t.Errorf("figures do not add up: %+v", res)
	}
}

func TestSQLPartDeliversEveryMessage(t *testing.T) {
	cases := []struct {
		engine  string
		streams int
		listing bool
	}{
		{"sqlite", 1, false},
		{"sqlite", 1, true},
		{"postgres", 4, false},
		{"postgres", 4, true},
	}
	for _, c := range cases {
		name := c.engine
		if c.listing {
			name += "/listing"
		}
		t.Run(name, func(t *testing.T) {
			var url string
			if c.engine == "postgres" {
				url = dbtest.PostgresURL(t)
			}
			// 1,030 is not a whole number of batches, and four PostgreSQL
			// streams claim each other's messages: runSQL fails unless each
			// one ends delivered.
			res, err := runSQL(context.Background(), sqlRun{engine: c.engine, url: url, n: 1030, batch: 100, streams: c.streams, listing: c.listing})
			if err != nil {
				t.Fatal(err)
			}
			if res.N != 1030 || res.Engine != c.engine || res.Listing != c.listing {
				t.Errorf("result = %+v", res)
			}
		})
	}
}
