package db

import "context"

// MigrateTo applies the migrations up to and including version, as an
// older Herald would have left the database.
func (d *DB) MigrateTo(ctx context.Context, version int) error {
	all, err := Migrations(d.Engine)
	if err != nil {
		return err
	}
	for _, m := range all {
		if m.Version > version {
			break
		}
		if _, err := d.apply(ctx, m); err != nil {
			return err
		}
	}
	return nil
}
