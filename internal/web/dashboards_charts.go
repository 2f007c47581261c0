package web

import (
	"fmt"

	"github.com/heraldsms/herald/internal/metrics"
)

// dashChart is one chart of the dashboard and its table: the same figures
// twice, drawn by dashboard.js from Data and readable without it (or
// without sight).
type dashChart struct {
	ID, Title, Caption string
	Data               dashChartData
	// Head names the table's columns after the bucket's; Rows holds one
	// row per bucket, its cells formatted.
	Head []string
	Rows []dashRow
}

// dashChartData is what dashboard.js reads from the chart's data-chart
// attribute: uPlot's series, with the buckets' labels as the x axis.
type dashChartData struct {
	Labels []string     `json:"labels"`
	Unit   string       `json:"unit"` // "count" or "percent"
	Series []dashSeries `json:"series"`
}

// dashSeries is one line. Tone picks its colour from the stylesheet
// (--chart-1 …), so colours stay with the design tokens. A nil value is a
// gap: a bucket with no delivery rate yet.
type dashSeries struct {
	Label  string     `json:"label"`
	Tone   int        `json:"tone"`
	Values []*float64 `json:"values"`
}

type dashRow struct {
	Label string
	Cells []string
}

// dashMeasure reads one figure of a bucket.
type dashMeasure struct {
	label string
	value func(p metrics.Point) *float64
}

func dashCounted(label string, n func(p metrics.Point) int64) dashMeasure {
	return dashMeasure{label, func(p metrics.Point) *float64 { f := float64(n(p)); return &f }}
}

// dashCharts lays out the report's series as the dashboard's three charts:
// message outcomes, the delivery rate, and segments (what the carrier
// bills).
func dashCharts(rep *metrics.Report) []dashChart {
	per := dashPer(rep.Interval)
	messages := []dashMeasure{
		dashCounted("Sent", func(p metrics.Point) int64 { return p.Sent }),
		dashCounted("Delivered", func(p metrics.Point) int64 { return p.Delivered }),
		dashCounted("Undelivered", func(p metrics.Point) int64 { return p.Undelivered }),
		dashCounted("Failed", func(p metrics.Point) int64 { return p.Failed }),
		dashCounted("Skipped", func(p metrics.Point) int64 { return p.Skipped }),
		dashCounted("Opt-outs", func(p metrics.Point) int64 { return p.OptOuts }),
	}
	rate := []dashMeasure{{"Delivery rate", func(p metrics.Point) *float64 {
		if p.DeliveryRate == nil {
			return nil
		}
		pct := *p.DeliveryRate * 100
		return &pct
	}}}
	segments := []dashMeasure{dashCounted("Segments sent", func(p metrics.Point) int64 { return p.SegmentsSent })}
	return []dashChart{
		dashBuild(rep, "chart-messages", "Messages "+per, "Messages sent, delivered, undelivered, failed and skipped, and opt-outs, "+per+".", "count", messages),
		dashBuild(rep, "chart-delivery-rate", "Delivery rate "+per, "Delivered as a share of messages that reached an outcome, "+per+".", "percent", rate),
		dashBuild(rep, "chart-segments", "Segments "+per, "Segments sent, "+per+": what the carrier counts.", "count", segments),
	}
}

func dashBuild(rep *metrics.Report, id, title, caption, unit string, ms []dashMeasure) dashChart {
	c := dashChart{ID: id, Title: title, Caption: caption, Data: dashChartData{Unit: unit}}
	for i, m := range ms {
		c.Head = append(c.Head, m.label)
		c.Data.Series = append(c.Data.Series, dashSeries{Label: m.label, Tone: i + 1, Values: make([]*float64, 0, len(rep.Series))})
	}
	for _, p := range rep.Series {
		label := dashBucketLabel(p, rep.Interval)
		c.Data.Labels = append(c.Data.Labels, label)
		row := dashRow{Label: label}
		for i, m := range ms {
			v := m.value(p)
			c.Data.Series[i].Values = append(c.Data.Series[i].Values, v)
			row.Cells = append(row.Cells, dashCell(v, unit))
		}
		c.Rows = append(c.Rows, row)
	}
	return c
}

func dashCell(v *float64, unit string) string {
	switch {
	case v == nil:
		return "—"
	case unit == "percent":
		return fmt.Sprintf("%.1f %%", *v)
	}
	return dashCount(int64(*v))
}

// dashPer says what one point stands for.
func dashPer(iv metrics.Interval) string {
	switch iv {
	case metrics.Hour:
		return "per hour"
	case metrics.Week:
		return "per week"
	case metrics.Month:
		return "per month"
	}
	return "per day"
}

// dashBucketLabel names a bucket in the account's time zone, in which the
// report's points already are.
func dashBucketLabel(p metrics.Point, iv metrics.Interval) string {
	switch iv {
	case metrics.Hour:
		return p.Start.Format("2006-01-02 15:04")
	case metrics.Week:
		return "Week of " + p.Start.Format("2006-01-02")
	case metrics.Month:
		return p.Start.Format("January 2006")
	}
	return p.Start.Format("2006-01-02")
}

// dashBreakdownRow is one row of the by-template or by-program table.
type dashBreakdownRow struct {
	Name string
	// Filter is the dashboard's link narrowed to this row; empty for the
	// row that gathers messages with no template or no program.
	Filter string
	Cells  []string
}

// dashBreakdownHead names the figures of a breakdown row, in order.
var dashBreakdownHead = []string{"Created", "Sent", "Delivered", "Undelivered", "Failed", "Skipped", "Delivery rate", "Segments"}

func dashBreakdownCells(c metrics.Counts) []string {
	return []string{dashCount(c.Created), dashCount(c.Sent), dashCount(c.Delivered), dashCount(c.Undelivered),
		dashCount(c.Failed), dashCount(c.Skipped), dashRate(c.DeliveryRate), dashCount(c.SegmentsSent)}
}

// dashBreakdowns builds the two tables. Each named row links to the
// dashboard filtered to it, keeping the range and interval.
func dashBreakdowns(rep *metrics.Report, filter func(key, id string) string) (byTemplate, byProgram []dashBreakdownRow) {
	for _, t := range rep.ByTemplate {
		row := dashBreakdownRow{Name: "No template (keyword replies)", Cells: dashBreakdownCells(t.Counts)}
		if t.TemplateID != nil {
			row.Name, row.Filter = dashName(t.TemplateName, *t.TemplateID), filter("template_id", *t.TemplateID)
		}
		byTemplate = append(byTemplate, row)
	}
	for _, p := range rep.ByProgram {
		row := dashBreakdownRow{Name: "No program", Cells: dashBreakdownCells(p.Counts)}
		if p.ProgramID != nil {
			row.Name, row.Filter = dashName(p.ProgramName, *p.ProgramID), filter("program_id", *p.ProgramID)
		}
		byProgram = append(byProgram, row)
	}
	return byTemplate, byProgram
}

// dashName is a row's name, or its id when the name is gone (an archived
// template keeps its figures).
func dashName(name, id string) string {
	if name == "" {
		return id
	}
	return name
}
