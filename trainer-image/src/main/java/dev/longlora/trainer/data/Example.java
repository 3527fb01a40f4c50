package dev.longlora.trainer.data;

/**
 * One unit of a corpus: a document ({@code prompt} empty, all of it trained) or an SFT record, whose prompt tokens
 * are labelled -100 so only {@code completion} is trained.
 */
public record Example(String prompt, String completion) {

    public static Example document(String text) {
        return new Example("", text);
    }

    public boolean hasPrompt() {
        return !prompt.isEmpty();
    }

    public String text() {
        return prompt + completion;
    }
}
