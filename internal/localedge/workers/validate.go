package workers

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/deploy"
)

// SetValidator attaches the runtime that validates uploads; without one, uploads are checked
// by the API's own rules only (metadata, modules, bindings). The returned function detaches
// it, unless another validator was attached since.
func (s *Workers) SetValidator(v Validator, log io.Writer) (detach func()) {
	s.validatorMu.Lock()
	defer s.validatorMu.Unlock()
	if log == nil {
		log = io.Discard
	}
	s.validatorGen++
	gen := s.validatorGen
	s.validator, s.log = v, log
	return func() {
		s.validatorMu.Lock()
		defer s.validatorMu.Unlock()
		if s.validatorGen == gen {
			s.validator = nil
		}
	}
}

func (s *Workers) currentValidator() (Validator, io.Writer) {
	s.validatorMu.Lock()
	defer s.validatorMu.Unlock()
	return s.validator, s.log
}

// updateVersion runs write, the transaction of a request that creates a version, and commits
// it. With a Validator attached, write first runs in a dry run and the version it returns
// (with the Durable Object classes the script implements after the write's migrations) is
// loaded in the runtime: one the runtime cannot load is refused with 10021 and the runtime's
// message, and nothing is stored. write runs twice then, so it must only set its results.
func (s *Workers) updateVersion(r *http.Request, script string, write func(tx *api.Tx) (*workerVersion, error)) error {
	validate, log := s.currentValidator()
	if validate != nil {
		var candidate deploy.Script
		err := s.store.DryRun(func(tx *api.Tx) error {
			v, err := write(tx)
			if err != nil {
				return err
			}
			namespaces, err := api.All[doNamespace](tx, bucketDONamespaces, "")
			candidate = deploy.Single(script, deployedVersion(v))
			candidate.Classes = classesOf(script, namespaces)
			return err
		})
		if err != nil {
			return err
		}
		var scriptErr *deploy.ScriptError
		switch err := validate(r.Context(), candidate); {
		case errors.As(err, &scriptErr):
			return errValidation(scriptErr.Message)
		case err != nil:
			fmt.Fprintf(log, "servicesdo local edge: could not validate the upload of Worker %q in the runtime (accepted unvalidated): %v\n", script, err)
		}
	}
	return s.store.Update(func(tx *api.Tx) error {
		_, err := write(tx)
		return err
	})
}
