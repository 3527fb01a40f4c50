package dev.longlora.contract;

/** One named part of a {@link MemoryPlan}: its bytes per GPU (per process on the CPU) and what it holds. */
public record MemoryTerm(String name, long bytes, String what) {}
