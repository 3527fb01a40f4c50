package dev.longlora.trainer.model;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.parameter.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every weight of a model by HF/PEFT name, in a stable order (embedding, layers in order, final norm, head). The
 * IO code loads and saves safetensors through it: iterate {@link #all()}, read with {@link #values}, write with
 * {@link #setValues}, read gradients with {@link #grads}.
 */
public final class ParameterStore {
    private final Backend backend;
    private final Map<String, Parameter> byName = new LinkedHashMap<>();
    /** Weights allocated without an init because a load will write them; emptied by {@link #setValues}. */
    private final Set<String> awaitingLoad = new LinkedHashSet<>();

    ParameterStore(Backend backend) {
        this.backend = backend;
    }

    /** An empty store on {@code backend}, for weights outside a model (layer tests, tools). */
    public static ParameterStore create(Backend backend) {
        return new ParameterStore(backend);
    }

    /** Adds a zero-filled parameter (with a zero gradient when trainable); names must be unique. */
    public Parameter add(String name, int[] shape, boolean trainable) {
        if (byName.containsKey(name)) {
            throw new IllegalStateException("duplicate parameter " + name);
        }
        Parameter p = new Parameter(name, shape, backend.allocate(shape), trainable ? backend.allocate(shape) : null);
        byName.put(name, p);
        return p;
    }

    /** All parameters in a stable order. */
    public Collection<Parameter> all() {
        return Collections.unmodifiableCollection(byName.values());
    }

    /** The trainable parameters, in the same order. */
    public List<Parameter> trainable() {
        List<Parameter> out = new ArrayList<>();
        for (Parameter p : byName.values()) {
            if (p.trainable()) {
                out.add(p);
            }
        }
        return out;
    }

    /** Whether a parameter of that name exists. */
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** The parameter of that name; throws {@link IllegalArgumentException} naming it when absent. */
    public Parameter get(String name) {
        Parameter p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("the model has no parameter named '" + name + "'");
        }
        return p;
    }

    /** A copy of the values of {@code name}, row-major. */
    public float[] values(String name) {
        return backend.download(get(name).value());
    }

    /**
     * Overwrites the values of {@code name}; the array must have exactly the parameter's element count (the error
     * names the parameter, its shape and the length given).
     */
    public void setValues(String name, float[] data) {
        Parameter p = get(name);
        if (data.length != p.numel()) {
            throw new IllegalArgumentException("parameter " + name + " has shape " + Arrays.toString(p.shape()) + " ("
                    + p.numel() + " values) but " + data.length + " values were given");
        }
        backend.upload(p.value(), data);
        awaitingLoad.remove(name);
    }

    /** Records that {@code p} holds no meaningful values yet and must be written before the model runs. */
    void markAwaitingLoad(Parameter p) {
        awaitingLoad.add(p.name());
    }

    /** Names of the weights that were allocated for a load but never written, in store order. */
    public List<String> awaitingLoad() {
        return List.copyOf(awaitingLoad);
    }

    /**
     * Fails when a weight allocated for loading was never written, so a model never runs on unset zeros; the error
     * names the first such weight and how many there are.
     */
    public void requireLoaded() {
        if (!awaitingLoad.isEmpty()) {
            throw new IllegalStateException(awaitingLoad.size() + " weight(s) of the model were never loaded, first '"
                    + awaitingLoad.iterator().next()
                    + "': load the model directory (every base tensor) before using the model");
        }
    }

    /** A copy of the accumulated gradient of {@code name}; throws when the parameter is frozen. */
    public float[] grads(String name) {
        Parameter p = get(name);
        if (!p.trainable()) {
            throw new IllegalArgumentException("parameter " + name + " is frozen and has no gradient");
        }
        return backend.download(p.grad());
    }

    /** Zeroes every gradient this rank holds whole (ZeRO-2/3 zero their gradient shards themselves). */
    public void zeroGrads() {
        for (Parameter p : byName.values()) {
            if (p.hasGrad()) {
                backend.zero(p.grad());
            }
        }
    }

    /** Total elements of all parameters. */
    public long numel() {
        return byName.values().stream().mapToLong(Parameter::numel).sum();
    }

    /** Total elements of the trainable parameters. */
    public long trainableNumel() {
        return trainable().stream().mapToLong(Parameter::numel).sum();
    }
}
