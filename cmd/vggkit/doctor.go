package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sort"

	"github.com/gomlx/compute"
	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/config"
)

// runDoctor reports what vggkit can run on, and installs the XLA CPU plugin on request.
func runDoctor(args []string, stdout io.Writer) error {
	fs := newFlags("doctor", stdout)
	install := fs.String("install", "", "install a PJRT plugin into the cache with pip: cpu (the xla-cpu-pjrt wheel) or cuda (jax-cuda13-pjrt and NVIDIA's libraries, about 3 GB)")
	if err := parse(fs, args); err != nil {
		return err
	}
	installers := map[string]struct {
		what string
		fn   func(context.Context, io.Writer) (string, error)
	}{"cpu": {"XLA CPU plugin", backend.InstallCPU}, "cuda": {"CUDA plugin", backend.InstallCUDA}}
	if *install != "" {
		in, ok := installers[*install]
		if !ok {
			return fmt.Errorf("%w: -install %q: want cpu or cuda", errUsage, *install)
		}
		ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
		defer cancel()
		p, err := in.fn(ctx, stdout)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %s\n", in.what, p)
	}
	fmt.Fprintf(stdout, "go:        %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	warnNoSIMD(stdout)
	fmt.Fprintf(stdout, "go-xla:    %s\n", goXLAReport())
	fmt.Fprintf(stdout, "plugins:   %s (vggkit's cache)\n", backend.PluginDir())
	if p, ok := backend.InstalledPlugin("cpu"); ok {
		fmt.Fprintf(stdout, "           cpu: %s\n", p)
	} else {
		fmt.Fprintln(stdout, "           cpu: not installed (vggkit doctor -install cpu)")
	}
	found := backend.Plugins()
	names := make([]string, 0, len(found))
	for n := range found {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(stdout, "PJRT plugins on the search path ($PJRT_PLUGIN_LIBRARY_PATH, /usr/local/lib/go-xla, ~/.local/lib/go-xla):")
	if len(names) == 0 {
		fmt.Fprintln(stdout, "           none")
	}
	for _, n := range names {
		fmt.Fprintf(stdout, "           %s: %s\n", n, found[n])
	}
	fmt.Fprintln(stdout, "CUDA plugins in Python environments and vggkit's cache (used when a GPU is present):")
	cudas := backend.FindCUDAPlugins()
	if len(cudas) == 0 {
		fmt.Fprintln(stdout, "           none (vggkit doctor -install cuda)")
	}
	for _, p := range cudas {
		fmt.Fprintf(stdout, "           %s (%d NVIDIA library folders; CUDA data dir %q)\n", p.Path, len(p.LibDirs), p.DataDir)
	}
	c, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "selected:  %s\n", c)
	switch {
	case c.IsGo():
		fmt.Fprintln(stdout, "convs:     im2col on the pure-Go backend (the fast CPU path, oneDNN and vggkit's kernels, needs the XLA CPU plugin: vggkit doctor -install cpu)")
	case c.IsXLACPU() && !backend.GoXLAPatched():
		fmt.Fprintf(stdout, "convs:     XLA's own, no oneDNN nor vggkit's kernels (%s)\n", backend.GoXLAUpstreamNote)
	case c.IsXLACPU():
		convs := "oneDNN for forward and input-gradient convolutions (%s=0: XLA's own)"
		if !c.OneDNN() {
			convs = "XLA's own (%s=0)"
		}
		fmt.Fprintf(stdout, "convs:     "+convs+"\n", backend.OneDNNEnvVar)
		switch on, err := c.CPUKernels(); {
		case on:
			fmt.Fprintf(stdout, "           kernel gradients, and convolutions on maps up to 8x8: vggkit's AVX-512 kernels (%s=0: XLA's own)\n", backend.CPUKernelsEnvVar)
		case err != nil:
			fmt.Fprintf(stdout, "           kernel gradients: XLA's own (vggkit's kernels could not be registered: %v)\n", err)
		case !config.Env().CPUKernels:
			fmt.Fprintf(stdout, "           kernel gradients: XLA's own (%s=0)\n", backend.CPUKernelsEnvVar)
		default:
			fmt.Fprintln(stdout, "           kernel gradients: XLA's own (vggkit's kernels need AVX-512F)")
		}
		malloc := "glibc's defaults (huge pages need glibc on Linux, and not " + config.EnvMalloc + "=0)"
		if backend.HugePages() {
			malloc = "glibc with transparent huge pages (" + config.EnvMalloc + "=0: glibc's defaults)"
		}
		fmt.Fprintf(stdout, "malloc:    %s\n", malloc)
	}
	for d := range c.Backend.NumDevices() {
		fmt.Fprintf(stdout, "device %d:  %s\n", d, c.Backend.DeviceDescription(compute.DeviceNum(d)))
	}
	return nil
}

// goXLAReport says which go-xla this binary is built with: with vggkit's patch (the fast
// CPU path) or upstream, and then what to do.
func goXLAReport() string {
	version, replacedBy, ok := backend.GoXLAVersion()
	if !ok {
		version = "(version unknown)"
	}
	if !backend.GoXLAPatched() {
		return version + " upstream, without vggkit's patch: no fast CPU path (oneDNN convolutions, vggkit's kernels) " +
			"on XLA CPU; in a vggkit checkout, run scripts/go-xla-patch.sh and rebuild"
	}
	s := version + " with vggkit's patch (oneDNN convolutions and vggkit's kernels on XLA CPU)"
	if replacedBy != "" {
		s += ", from " + replacedBy
	}
	return s
}
