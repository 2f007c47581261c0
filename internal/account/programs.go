package account

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/problem"
)

// NewProgram is what it takes to create a program.
type NewProgram struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

const insertProgram = `
INSERT INTO programs (id, account_id, name, description, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $5)`

// CreateProgram adds a program to an account.
func (s *Store) CreateProgram(ctx context.Context, accountID string, n NewProgram) (Program, error) {
	n.Name = strings.TrimSpace(n.Name)
	if err := validName("name", n.Name, 200); err != nil {
		return Program{}, err
	}
	if len(n.Description) > 2000 {
		return Program{}, problem.Invalidf("too_long", "description", "description is longer than 2000 bytes")
	}
	now := s.clock.Now()
	p := Program{ID: id.New(id.Program), AccountID: accountID, Name: n.Name, Description: n.Description, CreatedAt: now, UpdatedAt: now}
	if _, err := s.db.Write().ExecContext(ctx, insertProgram, p.ID, accountID, p.Name, p.Description, now); err != nil {
		return Program{}, wrap("insert program", err)
	}
	return p, nil
}

const selectPrograms = `
SELECT id, account_id, name, description, created_at, updated_at FROM programs WHERE account_id = $1`

// ListPrograms returns an account's programs, oldest first.
func (s *Store) ListPrograms(ctx context.Context, accountID string) ([]Program, error) {
	rows, err := s.db.Read().QueryContext(ctx, selectPrograms+` ORDER BY id`, accountID)
	if err != nil {
		return nil, wrap("list programs", err)
	}
	defer rows.Close()
	out := []Program{}
	for rows.Next() {
		var p Program
		if err := rows.Scan(&p.ID, &p.AccountID, &p.Name, &p.Description, &p.CreatedAt, &p.UpdatedAt); err != nil {
			return nil, wrap("list programs", err)
		}
		out = append(out, p)
	}
	return out, wrap0("list programs", rows.Err())
}

// GetProgram returns one of an account's programs.
func (s *Store) GetProgram(ctx context.Context, accountID, programID string) (Program, error) {
	var p Program
	err := s.db.Read().QueryRowContext(ctx, selectPrograms+` AND id = $2`, accountID, programID).
		Scan(&p.ID, &p.AccountID, &p.Name, &p.Description, &p.CreatedAt, &p.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Program{}, problem.NotFoundf("no program %q", programID)
	}
	if err != nil {
		return Program{}, wrap("get program", err)
	}
	return p, nil
}
