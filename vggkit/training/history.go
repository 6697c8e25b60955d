package training

// History is what training recorded, for curves and for resuming.
type History struct {
	Steps   []int64   `json:"steps"` // global step at each loss point.
	Loss    []float64 `json:"loss"`  // mean training loss over the preceding LogEvery steps.
	Epochs  []Epoch   `json:"epochs"`
	Resumes []Resumed `json:"resumes,omitempty"` // resumes that changed a setting.
	// Current is the epoch in progress when the checkpoint was saved, so that a resumed
	// run finishes that epoch's summary over all of its steps.
	Current *EpochSums `json:"current,omitempty"`
}

// Epoch summarises one finished epoch.
type Epoch struct {
	Epoch        int     `json:"epoch"` // 1-based.
	Step         int64   `json:"step"`
	TrainLoss    float64 `json:"train_loss"`
	TrainAcc     float64 `json:"train_accuracy"`
	TestAcc      float64 `json:"test_accuracy"` // -1 when not evaluated.
	Seconds      float64 `json:"seconds"`
	ImagesPerSec float64 `json:"images_per_sec"`
}

// Resumed records a resume that changed settings config.Resumable allows.
type Resumed struct {
	Step    int64    `json:"step"`
	Changes []string `json:"changes"`
}

// EpochSums accumulates an epoch's figures step by step.
type EpochSums struct {
	Epoch   int     `json:"epoch"` // 1-based.
	Steps   int     `json:"steps"`
	Loss    float64 `json:"loss_sum"`
	Acc     float64 `json:"last_accuracy"`
	Seconds float64 `json:"seconds"`
	Images  int     `json:"images"`
}
