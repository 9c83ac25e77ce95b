import { barChart, lineChart, renderReportHtml, renderReportMarkdown } from '@decisiontrail/cli/internal';
import { describe, expect, it } from 'vitest';
import { sampleReport } from '../fixtures/sample-report.ts';

describe('period report renderers', () => {
  it('HTML is self-contained, escaped, and has the five charts with one mark per data point', () => {
    const report = sampleReport();
    const html = renderReportHtml(report);
    expect(html).not.toMatch(/<script|<link|src=|href=|@import|url\(/i);
    expect(html).toContain('reject &lt;script&gt;');
    const charts = [...html.matchAll(/data-chart="([^"]+)" data-kind="(\w+)" data-points="(\d+)"/g)].map(
      (m) => [m[1], m[2], Number(m[3])],
    );
    expect(charts).toEqual([
      ['decisions-over-time', 'bar', 14],
      ['override-rate', 'line', 14],
      ['confidence-histogram', 'bar', 10],
      ['accuracy-by-version', 'bar', 2],
      ['outcome-rate-by-group', 'bar', 2],
    ]);
    expect(html).toContain('@media print');
    expect(html).toContain('85.0%'); // accuracy 510/600
  });

  it('Markdown carries the same numbers', () => {
    const md = renderReportMarkdown(sampleReport());
    expect(md).toContain('# EU AI Act period report: credit-risk');
    expect(md).toContain('| 2026-03-08 00:00:00Z | v2 | v1 | production | sha256:9a8b |');
    expect(md).toContain('| v2 | 1,120 | 300 | 77.0% | 8.0% |');
    expect(md).toContain('| INC-1 | v2 rejects eligible applicants | high | fundamental_rights | open |');
  });

  it('agent actions: runs, failures, links and requests per tool, in both formats', () => {
    const md = renderReportMarkdown(sampleReport());
    expect(md).toContain('## Agent actions (Art. 12(2), Art. 26(5))');
    expect(md).toContain('| freeze_card | 12 | 1 | 11 | 14 |');
    const html = renderReportHtml(sampleReport());
    expect(html).toContain('Agent actions (Art. 12(2), Art. 26(5))');
    expect(html).toContain('send_email &lt;b&gt;');
  });

  it('record keeping: each figure against its target, or "not measured" when nothing counted it', () => {
    const md = renderReportMarkdown(sampleReport());
    expect(md).toContain('| v1 | 80 | not measured | — | 80 | 100.0% — meets the > 99.0% target | 0 |');
    expect(md).toContain(
      '| v2 | 1,120 | 99.1% — below the 100.0% target | 1,100 of 1,110 | 20 | 99.5% — meets the > 99.0% target | 6 |',
    );
    expect(md).toContain('| v2 | audit.input.hash_key_id | 4 |');
    const html = renderReportHtml(sampleReport());
    expect(html).toContain('<td>not measured</td>');
    expect(html).toContain('<td>audit.model.version</td><td class="num">2</td>');
  });

  it('charts scale bars to the axis and say so when empty', () => {
    const svg = barChart(
      [
        { label: 'a', value: 50 },
        { label: 'b', value: 100 },
      ],
      { id: 'x', title: 'X', format: String },
    );
    const heights = [...svg.matchAll(/<rect class="bar"[^>]* height="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(heights[1]).toBeCloseTo(heights[0]! * 2, 0);
    expect(barChart([], { id: 'e', title: 'E', format: String })).toContain('no data in this period');
    const line = lineChart(
      [
        { label: '1', value: 0.1 },
        { label: '2', value: null },
        { label: '3', value: 0.3 },
      ],
      { id: 'l', title: 'L', format: String, max: 1 },
    );
    expect(line.match(/M/g)).toHaveLength(2); // the null point breaks the line
  });
});
