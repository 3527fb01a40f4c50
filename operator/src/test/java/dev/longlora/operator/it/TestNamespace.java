package dev.longlora.operator.it;

/**
 * A namespace created for one test method by {@link RealApiServerExtension}; unique, never reused.
 *
 * @param name the namespace's name
 */
public record TestNamespace(String name) {}
