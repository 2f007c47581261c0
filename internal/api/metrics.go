package api

import (
	"net/http"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/metrics"
)

// smsMetrics is the SMS dashboard's data: a series over the range, its
// totals, and tables by template and by program, read from the hourly
// rollups (a few seconds behind the messages).
func (s *Server) smsMetrics(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	q, err := metrics.ParseQuery(r.URL.Query().Get)
	if err != nil {
		return err
	}
	report, err := s.Metrics.Dashboard(r.Context(), p.AccountID, q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, report)
	return nil
}
