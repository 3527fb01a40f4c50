package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/** The newest complete checkpoint the trainer reported. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CheckpointRef(Long step, String path, String time) {}
