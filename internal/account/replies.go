package account

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/heraldsms/herald/internal/problem"
)

// Replies are an account's answers to keywords and its own extra keywords.
// An empty text means the default, which names the brand and says how to
// stop and get help, as carriers require.
type Replies struct {
	BrandName      string   `json:"brand_name"`
	HelpText       string   `json:"help_text"`
	OptOutText     string   `json:"opt_out_text"`
	OptInText      string   `json:"opt_in_text"`
	OptOutKeywords []string `json:"opt_out_keywords"`
	OptInKeywords  []string `json:"opt_in_keywords"`
	HelpKeywords   []string `json:"help_keywords"`
}

// DefaultHelp is the help reply an account gets until it writes its own.
func DefaultHelp(brand string) string {
	return brand + ": referral and reward alerts. Msg frequency varies. Msg & data rates may apply. Reply STOP to opt out, HELP for help."
}

// DefaultOptOut confirms an opt-out, once, with no marketing in it.
func DefaultOptOut(brand string) string {
	return brand + ": You are unsubscribed and will receive no further messages. Reply START to resubscribe."
}

// DefaultOptIn confirms an opt-in.
func DefaultOptIn(brand string) string {
	return brand + ": You are subscribed to referral and reward alerts. Msg frequency varies. Msg & data rates may apply. Reply HELP for help, STOP to opt out."
}

// Effective fills empty texts with the defaults.
func (r Replies) Effective(brand string) Replies {
	if r.BrandName != "" {
		brand = r.BrandName
	}
	if r.HelpText == "" {
		r.HelpText = DefaultHelp(brand)
	}
	if r.OptOutText == "" {
		r.OptOutText = DefaultOptOut(brand)
	}
	if r.OptInText == "" {
		r.OptInText = DefaultOptIn(brand)
	}
	return r
}

func splitWords(s string) []string {
	out := []string{}
	for _, w := range strings.Split(s, ",") {
		if w = strings.TrimSpace(w); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// Replies returns an account's reply settings as stored (empty = default).
func (s *Store) Replies(ctx context.Context, accountID string) (Replies, error) {
	var (
		r                Replies
		out, in, helpKWs string
	)
	err := s.db.Read().QueryRowContext(ctx, `SELECT brand_name, help_text, reply_opt_out, reply_opt_in,
		keywords_opt_out, keywords_opt_in, keywords_help FROM accounts WHERE id = $1`, accountID).
		Scan(&r.BrandName, &r.HelpText, &r.OptOutText, &r.OptInText, &out, &in, &helpKWs)
	if errors.Is(err, sql.ErrNoRows) {
		return r, problem.NotFoundf("no account %q", accountID)
	}
	if err != nil {
		return r, wrap("replies", err)
	}
	r.OptOutKeywords, r.OptInKeywords, r.HelpKeywords = splitWords(out), splitWords(in), splitWords(helpKWs)
	return r, nil
}

// SetReplies changes an account's reply settings.
func (s *Store) SetReplies(ctx context.Context, accountID string, r Replies) (Replies, error) {
	if err := checkReplies(&r); err != nil {
		return r, err
	}
	res, err := s.db.Write().ExecContext(ctx, `UPDATE accounts SET brand_name = $2, help_text = $3, reply_opt_out = $4,
		reply_opt_in = $5, keywords_opt_out = $6, keywords_opt_in = $7, keywords_help = $8, updated_at = $9 WHERE id = $1`,
		accountID, r.BrandName, r.HelpText, r.OptOutText, r.OptInText, strings.Join(r.OptOutKeywords, ","),
		strings.Join(r.OptInKeywords, ","), strings.Join(r.HelpKeywords, ","), s.clock.Now())
	s.changed(accountID)
	if err != nil {
		return r, wrap("set replies", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return r, problem.NotFoundf("no account %q", accountID)
	}
	return r, nil
}

func checkReplies(r *Replies) error {
	for _, f := range []struct {
		name string
		v    string
	}{{"brand_name", r.BrandName}, {"help_text", r.HelpText}, {"opt_out_text", r.OptOutText}, {"opt_in_text", r.OptInText}} {
		if len(f.v) > 320 {
			return problem.Invalidf("too_long", f.name, "%s is at most 320 characters (two segments)", f.name)
		}
	}
	if r.OptOutText != "" && !strings.Contains(strings.ToUpper(r.OptOutText), "START") && !strings.Contains(strings.ToUpper(r.OptOutText), "UNSTOP") {
		return problem.Invalidf("missing_resubscribe", "opt_out_text", "the opt-out confirmation must say how to opt back in (e.g. Reply START)")
	}
	if r.HelpText != "" && !strings.Contains(strings.ToUpper(r.HelpText), "STOP") {
		return problem.Invalidf("missing_opt_out", "help_text", "the help reply must say how to opt out (e.g. Reply STOP to opt out)")
	}
	for field, words := range map[string][]string{"opt_out_keywords": r.OptOutKeywords, "opt_in_keywords": r.OptInKeywords, "help_keywords": r.HelpKeywords} {
		if len(words) > 20 {
			return problem.Invalidf("too_many_keywords", field, "at most 20 keywords")
		}
		for i, w := range words {
			w = strings.ToUpper(strings.TrimSpace(w))
			if w == "" || len(w) > 30 || strings.ContainsAny(w, ",\n\r") {
				return problem.Invalidf("invalid_keyword", field, "keyword %q must be 1-30 characters without commas", words[i])
			}
			words[i] = w
		}
	}
	seen := map[string]string{}
	for field, words := range map[string][]string{"opt_out_keywords": r.OptOutKeywords, "opt_in_keywords": r.OptInKeywords, "help_keywords": r.HelpKeywords} {
		for _, w := range words {
			if other, dup := seen[w]; dup && other != field {
				return problem.Invalidf("keyword_conflict", field, "%q is both in %s and %s", w, other, field)
			}
			seen[w] = field
		}
	}
	return nil
}
