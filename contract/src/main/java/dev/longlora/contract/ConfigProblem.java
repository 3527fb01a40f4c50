package dev.longlora.contract;

import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One broken rule of job.json. The message refers to fields as {@code {context.targetLength}}, so each side can name
 * them in its own words: the trainer by their job.json paths, the operator by the job's spec paths.
 */
public record ConfigProblem(String field, String template) {
    private static final Pattern FIELD = Pattern.compile("\\{([a-zA-Z.]+)}");

    /** The message with job.json field paths. */
    public String message() {
        return render(UnaryOperator.identity());
    }

    /** The message with every field path mapped by {@code fieldName}. */
    public String render(UnaryOperator<String> fieldName) {
        Matcher m = FIELD.matcher(template);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement(fieldName.apply(m.group(1))));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}
