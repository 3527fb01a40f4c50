package dev.longlora.trainer.train;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.Tensor;
import dev.longlora.trainer.parameter.Parameter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW over the trainable parameters only: moments m and v (same shape as the parameter, on the backend) and a
 * step count per parameter. The state can be exported and imported by parameter name for checkpoints.
 */
public final class AdamW implements AutoCloseable {

    /** The state of one parameter: first and second moments and the number of updates applied. */
    public record ParamState(float[] m, float[] v, long step) {}

    private static final class Slot {
        final Parameter param;
        final Tensor m;
        final Tensor v;
        long step;

        Slot(Parameter param, Tensor m, Tensor v) {
            this.param = param;
            this.m = m;
            this.v = v;
        }
    }

    private final Backend backend;
    private final AdamWConfig config;
    private final Map<String, Slot> slots = new LinkedHashMap<>();

    /** An optimizer with zero moments for every trainable parameter in {@code params}. */
    public AdamW(Backend backend, List<Parameter> params, AdamWConfig config) {
        this.backend = backend;
        this.config = config.validate();
        for (Parameter p : params) {
            if (!p.trainable()) {
                throw new IllegalArgumentException("parameter " + p.name() + " is frozen and cannot be optimized");
            }
            slots.put(p.name(), new Slot(p, backend.allocate(p.shape()), backend.allocate(p.shape())));
        }
    }

    /** The hyper-parameters. */
    public AdamWConfig config() {
        return config;
    }

    /** Applies one update with learning rate {@code lr} to every parameter from its accumulated gradient. */
    public void step(double lr) {
        for (Slot s : slots.values()) {
            s.step++;
            backend.adamwUpdate(
                    s.param.value(),
                    s.param.grad(),
                    s.m,
                    s.v,
                    (float) lr,
                    (float) config.beta1(),
                    (float) config.beta2(),
                    (float) config.eps(),
                    (float) config.weightDecay(),
                    s.step);
        }
    }

    /** Names of the optimized parameters, in order. */
    public List<String> names() {
        return List.copyOf(slots.keySet());
    }

    /** A copy of every parameter's state, by name. */
    public Map<String, ParamState> exportState() {
        Map<String, ParamState> out = new LinkedHashMap<>();
        for (Map.Entry<String, Slot> e : slots.entrySet()) {
            Slot s = e.getValue();
            out.put(e.getKey(), new ParamState(backend.download(s.m), backend.download(s.v), s.step));
        }
        return out;
    }

    /**
     * Restores the state of every optimized parameter; each must be present with matching size (the error names the
     * parameter and the fix).
     */
    public void importState(Map<String, ParamState> state) {
        for (Map.Entry<String, Slot> e : slots.entrySet()) {
            ParamState ps = state.get(e.getKey());
            Slot s = e.getValue();
            if (ps == null) {
                throw new IllegalArgumentException("optimizer state has no entry for trainable parameter " + e.getKey()
                        + ": the checkpoint was written with another trainable set");
            }
            long n = s.param.numel();
            if (ps.m().length != n || ps.v().length != n) {
                throw new IllegalArgumentException("optimizer state for " + e.getKey() + " has " + ps.m().length + "/"
                        + ps.v().length + " values but the parameter has shape " + Arrays.toString(s.param.shape()));
            }
            if (ps.step() < 0) {
                throw new IllegalArgumentException(
                        "optimizer state for " + e.getKey() + " has negative step " + ps.step());
            }
            backend.upload(s.m, ps.m());
            backend.upload(s.v, ps.v());
            s.step = ps.step();
        }
    }

    @Override
    public void close() {
        for (Slot s : slots.values()) {
            s.m.close();
            s.v.close();
        }
    }
}
