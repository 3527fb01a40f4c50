package dev.longlora.trainer.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SortedSet;
import java.util.TreeSet;

/** The demo's results as a Markdown table: one row per model, passkey columns per prompt length. */
public final class ResultsTable {
    private final int originalContext;
    private final List<VariantResult> rows = new ArrayList<>();

    public ResultsTable(int originalContext) {
        this.originalContext = originalContext;
    }

    public void add(VariantResult row) {
        rows.add(row);
    }

    public List<VariantResult> rows() {
        return List.copyOf(rows);
    }

    /** The table; passkey columns beyond the original context are marked so. */
    public String markdown() {
        SortedSet<Integer> lengths = new TreeSet<>();
        for (VariantResult r : rows) {
            lengths.addAll(r.passkeyAccuracy().keySet());
        }
        var sb = new StringBuilder("| model | ppl | ");
        var rule = new StringBuilder("|---|---:|");
        for (int length : lengths) {
            sb.append("passkey@")
                    .append(length)
                    .append(length > originalContext ? " (beyond)" : "")
                    .append(" | ");
            rule.append("---:|");
        }
        sb.append("recall >").append(originalContext).append(" back | trainable params | train s |\n");
        rule.append("---:|---:|---:|\n");
        sb.append(rule);
        for (VariantResult r : rows) {
            sb.append("| ")
                    .append(r.label())
                    .append(" | ")
                    .append(String.format(Locale.ROOT, "%.3f @%d", r.perplexity(), r.contextLength()))
                    .append(" | ");
            for (int length : lengths) {
                Double acc = r.passkeyAccuracy().get(length);
                sb.append(acc == null ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * acc))
                        .append(" | ");
            }
            sb.append(Double.isNaN(r.farRecall()) ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * r.farRecall()))
                    .append(" | ");
            sb.append(r.trainableParams() == 0 ? "-" : String.format(Locale.ROOT, "%,d", r.trainableParams()))
                    .append(" | ")
                    .append(r.trainSeconds() == 0 ? "-" : String.format(Locale.ROOT, "%.0f", r.trainSeconds()))
                    .append(" |\n");
        }
        return sb.toString();
    }
}
