package dev.longlora.trainer.eval;

/** One passkey trial: the requested length, the prompt's actual tokens, the key, its depth, what the model said. */
public record PasskeyTrial(int length, int promptTokens, int key, double depth, String generated, boolean correct) {}
