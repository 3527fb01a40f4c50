package dev.longlora.trainer.parameter;

import dev.longlora.trainer.backend.Tensor;
import java.util.Arrays;

/**
 * One named weight of the model, with its HF/PEFT name (e.g. {@code model.layers.0.self_attn.q_proj.weight},
 * {@code model.layers.0.self_attn.q_proj.lora_A.weight}), its shape, its value and, when trainable, its gradient.
 *
 * <p>Its own package, below both the layers that compute with it and the model that owns it (through
 * {@code model.ParameterStore}, which creates every parameter), so neither of those packages depends on the other
 * in both directions.
 */
public final class Parameter {
    private final String name;
    private final int[] shape;
    /** Null while ZeRO-3 keeps this (frozen) weight partitioned across the ranks and it is not gathered. */
    private Tensor value;

    /** Null when frozen, and while ZeRO-2/3 keeps only a shard of the reduced gradient elsewhere. */
    private Tensor grad;

    private final boolean trainable;

    /** A parameter over {@code value} and, when trainable, {@code grad} (null when frozen). */
    public Parameter(String name, int[] shape, Tensor value, Tensor grad) {
        this.name = name;
        this.shape = shape.clone();
        this.value = value;
        this.grad = grad;
        this.trainable = grad != null;
    }

    /** HF/PEFT name. */
    public String name() {
        return name;
    }

    /** Shape as stored in safetensors (linear weights [out, in], LoRA A [r, in], LoRA B [out, r]). */
    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements. */
    public long numel() {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** The value tensor (owned by the model's backend); fails while the weight is partitioned away (ZeRO-3). */
    public Tensor value() {
        if (value == null) {
            throw new IllegalStateException("weight " + name + " is partitioned across the ranks (ZeRO-3) and is not"
                    + " gathered now: acquire its layer's weights first");
        }
        return value;
    }

    /** Whether this rank holds the whole value now (false while ZeRO-3 keeps only a shard of it elsewhere). */
    public boolean resident() {
        return value != null;
    }

    /** Hands the value tensor to the caller (who frees it) and leaves the weight not resident. Frozen weights only. */
    public Tensor detachValue() {
        if (trainable) {
            throw new IllegalStateException("trainable parameter " + name + " is never partitioned away");
        }
        Tensor t = value();
        value = null;
        return t;
    }

    /** Makes {@code tensor} (the whole gathered value, same element count) the value again. */
    public void attachValue(Tensor tensor) {
        if (value != null) {
            throw new IllegalStateException("weight " + name + " is already resident");
        }
        if (tensor.numel() != numel()) {
            throw new IllegalArgumentException(
                    "weight " + name + " has " + numel() + " values, the tensor " + tensor.numel());
        }
        value = tensor;
    }

    /**
     * The gradient tensor, or null when the parameter is frozen; fails while ZeRO-2/3 has no whole gradient for it
     * (outside its layer's backward pass).
     */
    public Tensor grad() {
        if (trainable && grad == null) {
            throw new IllegalStateException("the gradient of " + name + " is partitioned across the ranks (ZeRO-2/3)"
                    + " and exists whole only during its layer's backward pass");
        }
        return grad;
    }

    /** Whether this rank holds a whole gradient tensor for the parameter now (trainable ones only). */
    public boolean hasGrad() {
        return grad != null;
    }

    /** Hands the gradient tensor to the caller (who frees it); {@link #grad()} fails until one is attached. */
    public Tensor detachGrad() {
        Tensor g = grad();
        if (g == null) throw new IllegalStateException("frozen parameter " + name + " has no gradient");
        grad = null;
        return g;
    }

    /** Makes {@code tensor} (same element count) the gradient again. */
    public void attachGrad(Tensor tensor) {
        if (!trainable || grad != null) {
            throw new IllegalStateException(
                    "parameter " + name + (trainable ? " already has a gradient" : " is frozen"));
        }
        if (tensor.numel() != numel()) {
            throw new IllegalArgumentException(
                    "parameter " + name + " has " + numel() + " values, the tensor " + tensor.numel());
        }
        grad = tensor;
    }

    /** Whether the optimizer updates this parameter. */
    public boolean trainable() {
        return trainable;
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + (trainable() ? " trainable" : "");
    }
}
